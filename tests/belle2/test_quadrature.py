"""Integrals over many intervals at once (xfit.belle2.quadrature), against exact integrals."""
import math

import numpy as np

from xfit.belle2 import quadrature


def test_smooth_integrands_to_the_requested_accuracy():
    lo, hi = np.linspace(0.0, 3.0, 31)[:-1], np.linspace(0.0, 3.0, 31)[1:]
    got = quadrature.integrals(np.exp, lo, hi)
    assert np.allclose(got, np.exp(hi) - np.exp(lo), rtol=1e-12, atol=0)
    # a square-root threshold at a break point: the piece above it is halved until it converges
    got = quadrature.integrals(lambda x: np.sqrt(np.clip(x - 1.0, 0.0, None)), [0.0, 0.5], [2.0, 1.0], points=(1.0,))
    assert np.allclose(got, [2.0 / 3.0, 0.0], rtol=1e-9, atol=0)


def test_a_step_that_is_not_a_break_point():
    """The end of a table inside a bin (a jump, not declared): the 20- and 10-point rules agree by
    chance on one of the pieces around it (2.5e-5 off with that estimate alone); with the
    comparison to the two halves, the bin is exact to 1e-10."""
    x = np.linspace(0.0, 21.0, 50)
    y = np.abs(np.sin(x))

    def f(q):
        return np.interp(q, x, y, left=0.0, right=0.0)

    a, b = 20.82535, 21.0542
    k = np.searchsorted(x, a) - 1
    exact = (np.interp(a, x, y) + y[k + 1]) / 2 * (x[k + 1] - a) + (y[k + 1] + y[-1]) / 2 * (21.0 - x[k + 1])
    got = quadrature.integrals(f, [a], [b], points=tuple(x[1:-1]))
    assert math.isclose(got[0], exact, rel_tol=1e-10)


def test_callables_it_cannot_integrate_give_none():
    assert quadrature.integrals(lambda q: 1.0 if q < 1 else 0.0, [0.0], [2.0]) is None  # scalars only
    assert quadrature.integrals(lambda q: np.ones(3), [0.0], [2.0]) is None  # not one value per node
    assert quadrature.integrals(lambda q: np.where(q > 1.5, np.nan, 1.0), [0.0], [2.0]) is None  # not finite
    # an interval that needs more pieces than the limit (a singularity that is not a break point)
    assert quadrature.integrals(lambda q: 1.0 / np.sqrt(np.abs(q - 1.0)), [0.0], [2.0], limit=5) is None
