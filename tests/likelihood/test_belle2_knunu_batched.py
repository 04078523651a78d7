"""The Belle II term evaluates many points at once (batched profile fits): each value equals the
exact profile fit of that point alone (``chi2_point``) to 1e-6."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from xfit.likelihood import build_likelihood


def _term():
    return build_likelihood("belle2_knunu").terms[0]


def _predictions(mX, B):
    mX, B = np.broadcast_arrays(np.asarray(mX, float), np.asarray(B, float))
    return {"mX": mX, "BR(B+->K+X)": B, "BR(X->invisible)": np.ones_like(B)}


def test_batched_chi2_equals_one_fit_per_point():
    term = _term()
    rng = np.random.default_rng(5)
    walkers = np.concatenate([[0.0, 8.6e-6, 8.6e-6, 4e-5, 1e-7], rng.uniform(1e-6, 2.5e-5, 11)])
    mX = np.where(np.arange(len(walkers)) % 4 == 0, 1.0, 2.1)  # two masses in one call
    batched = term.chi2(_predictions(mX, walkers))
    moved = walkers * rng.uniform(0.9, 1.1, len(walkers))  # the next step of the walkers
    batched2 = term.chi2(_predictions(mX, moved))
    single = pickle.loads(pickle.dumps(_term()))
    for B, m, c in zip(np.concatenate([walkers, moved]), np.concatenate([mX, mX]), np.concatenate([batched, batched2])):
        assert c == pytest.approx(single.chi2_point(float(m), float(B)), rel=1e-6, abs=1e-6)
    assert batched[1] == pytest.approx(-13.17, abs=0.02) and batched[1] == batched[2]
    assert batched[0] == pytest.approx(0.0, abs=1e-6)
    prof = term._profiles[(2.1, 0.0)]
    assert prof.stats["batched"] > prof.stats["references"]  # most points came from the batch


def test_profiles_are_not_pickled_and_out_of_range_is_flat():
    term = _term()
    assert term.chi2(_predictions(2.1, [5e-6, 1e-5])).shape == (2,)
    assert term._profiles
    assert pickle.loads(pickle.dumps(term))._profiles == {}
    assert np.all(term.chi2_at_mass(4.7, [1e-5, 2e-5]) == 0.0)  # no efficiency above 4.675 GeV
