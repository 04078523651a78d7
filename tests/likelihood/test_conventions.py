"""The limit convention's quantile Phi^-1(CL): the stored values at the shipped confidence levels
are scipy's to the last bit (so chi2 and every fit are unchanged), other levels are computed."""
import pytest
from scipy.special import ndtri

from xfit.errors import InputError
from xfit.likelihood import chi2_threshold_one_sided, half_gaussian_sigma, measurement_files
from xfit.likelihood.conventions import ONE_SIDED_Z, _one_sided_z


def test_stored_quantiles_are_scipys_to_the_last_bit():
    for cl, z in ONE_SIDED_Z.items():
        assert z == float(ndtri(cl))
        assert _one_sided_z(cl) == z and chi2_threshold_one_sided(cl) == z * z


def test_every_confidence_level_of_the_limit_files_is_stored():
    from xfit.datafiles import load_data_file

    levels = [load_data_file(p)["confidence_level"] for p in measurement_files().values()]
    numeric = {cl for cl in levels if isinstance(cl, float)}  # others: mappings, text, null
    assert numeric and numeric <= set(ONE_SIDED_Z)


def test_other_levels_are_computed_and_bad_ones_refused():
    assert _one_sided_z(0.99) == float(ndtri(0.99))
    assert half_gaussian_sigma(2.0, 0.683) == pytest.approx(2.0 / float(ndtri(0.683)), rel=1e-15)
    with pytest.raises(InputError, match="confidence level"):
        _one_sided_z(0.4)


@pytest.mark.parametrize("cl", ["x", None, float("nan"), [0.9]])
def test_a_confidence_level_that_is_not_a_number_is_named(cl):
    """Text or None gave a bare ValueError/TypeError from float(); NaN reached the range check."""
    for f in (chi2_threshold_one_sided, lambda c: half_gaussian_sigma(1.0, c)):
        with pytest.raises(InputError, match="cl"):
            f(cl)
