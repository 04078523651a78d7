"""Powers of the interpolation parameters, for the polynomial interpolation codes."""
from __future__ import annotations

import numpy as np


def powers(a, n: int = 7) -> np.ndarray:
    """(n, K): rows a^0 .. a^(n-1) of a 1-d array ``a`` -- ``numpy.vander(a, n,
    increasing=True).T`` with the same multiplications (a running product), without its Python
    overhead and with contiguous rows (~3 us instead of ~7 us on a few dozen parameters, twice
    in every -ln L of a 232-parameter model, which takes ~40 us)."""
    v = np.empty((n, a.shape[0]))
    v[0] = 1.0
    v[1:] = a
    np.multiply.accumulate(v[1:], axis=0, out=v[1:])
    return v
