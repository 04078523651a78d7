"""LikelihoodTerm.chi2: the cheap path (every point in the mass range: no masked copies, m_X
validated once per sum of terms) gives exactly what the masked path gives, with the same checks."""
import numpy as np
import pytest

from xfit.errors import InputError
from xfit.likelihood import build_likelihood, get_term
from xfit.models import get_model

TERMS = "b_to_s_emiss,l3_z_gamma,na62_k_pi,koto_kl_pi0,belle_b_to_pi_rho"


def per_point(lik, pred):
    """chi2 one point at a time (each point alone decides whether a term applies)."""
    flat = {k: np.broadcast_to(np.asarray(v), np.shape(pred["mX"])).reshape(-1) for k, v in pred.items()}
    n = flat["mX"].size
    return np.array([lik.chi2({k: v[i:i + 1] for k, v in flat.items()})[0] for i in range(n)])


def test_in_range_and_masked_paths_agree_point_by_point():
    lik = build_likelihood(TERMS)
    model = get_model("tau-flavor")
    # masses inside and outside the mass ranges of the terms
    masses = np.array([0.05, 0.1, 2.1, 2.1, 3.0, 6.0])
    g = np.array([0.0, 1e-3, 0.01, 0.03, 0.02, 0.05])
    pred = model.predict(masses, gX=g)
    assert np.array_equal(lik.chi2(pred), per_point(lik, pred))
    # every point in range of every term applying at 2.1 GeV: the cheap path
    at = model.predict(2.1, gX=g)
    assert np.array_equal(lik.chi2(at), per_point(lik, at))
    # the same points next to one out of range: identical numbers
    mixed = model.predict(np.append(np.full(g.size, 2.1), 50.0), gX=np.append(g, 0.01))
    assert np.array_equal(lik.chi2(mixed)[:-1], lik.chi2(at))


def test_two_dimensional_grid_and_one_point():
    lik = build_likelihood("b_to_s_emiss,l3_z_gamma")
    model = get_model("tau-flavor")
    g = np.geomspace(1e-4, 0.1, 12).reshape(3, 4)
    grid = lik.chi2(model.predict(2.1, gX=g))
    assert grid.shape == (3, 4)
    assert np.array_equal(grid.reshape(-1), lik.chi2(model.predict(2.1, gX=g.reshape(-1))))
    one = lik.chi2(model.predict(2.1, gX=0.02))
    assert isinstance(one, float) and one == lik.chi2(model.predict(2.1, gX=np.array([0.02])))[0]


def test_checks_are_kept():
    term = get_term("l3_z_gamma")
    good = {"mX": np.array([1.0, 2.0]), "BR(Z->gammaX)": np.array([1e-7, 2e-7]),
            "BR(X->invisible)": np.array([1.0, 1.0])}
    assert np.all(np.isfinite(term.chi2(good)))
    with pytest.raises(InputError, match=r"needs prediction\(s\) \['mX'\]"):
        term.chi2({k: v for k, v in good.items() if k != "mX"})
    with pytest.raises(InputError, match=r"needs prediction\(s\) \['mX'\]"):
        (term + get_term("b_to_s_emiss")).chi2({k: v for k, v in good.items() if k != "mX"})
    with pytest.raises(InputError, match="m_X"):
        term.chi2({**good, "mX": np.array([1.0, np.nan])})
    with pytest.raises(InputError, match="are not finite"):
        term.chi2({**good, "BR(Z->gammaX)": np.array([1e-7, np.inf])})
    # a non-finite prediction at a mass outside the term's range is not looked at
    outside = {"mX": np.array([1.0, 200.0]), "BR(Z->gammaX)": np.array([1e-7, np.nan]),
               "BR(X->invisible)": np.array([1.0, 1.0])}
    assert term.chi2(outside)[1] == 0.0
