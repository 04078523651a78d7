"""Coloured anomalons, App. A of arXiv:2603.04394, Eqs. (A.18)-(A.23).

With colour multiplicities N_alpha, the linear conditions (A.18)-(A.19) are (2.4)-(2.5) with
X_alpha -> N_alpha X_alpha, so a colourless solution X^0 gives coloured charges X^0 / N.  The
quadratic (A.20) is not invariant under that rescaling: for two DL pairs it fixes the ratio of
the 𝒳-slopes of the actual charges to p = m Y3 / (n Y1), as without colour.  So the rescaling
is X = const^0 / N + (slope^0) 𝒳' - the 𝒳-independent part divided by N, the free shift
re-normalised - which solves (A.18)-(A.20) for every 𝒳' (:func:`colored`).  (For one ML field
and one DL pair, X_+ = X_-, (A.20) holds trivially.)  The extra condition (A.21),

    [SU(3)_c^2 U(1)_X]:  sum_alpha n_alpha T(N_alpha) X_alpha = 0,

then selects the colour assignments.  ML fields need a real colour representation (1, 8, 27),
DL pairs a representation and its conjugate.  Because T(R)/dim(R) = C_2(R)/8, (A.21) reads
n C_2(R_ML) = 2 m C_2(R_DL) for 1ML+1DL and n C_2(R_n) = m C_2(R_m) for 2DL.

Note: the printed examples do not satisfy (A.21) with the standard Dynkin indices T(6) = 5/2,
T(8) = 3, T(10) = 15/2, and (A.22) (with the evident sign fixes -Y for the partners and
(-10X + a)/80 for Psi_4) satisfies (A.20) only at 𝒳 = 0, its 𝒳-slopes being 1/6 and 1/8
instead of equal (tests/anomalons/test_colored.py gives the residuals);
:func:`colored_solutions` lists the assignments that do satisfy (A.18)-(A.21).
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

from .classify import REJECT_CHARGED_LP, REJECT_CHARGES, Candidate
from .field_content import DYNKIN_INDEX
from .rational import Affine, as_affine
from .spectra import AnomalonModel, DLPair, Multiplet

#: Real SU(3) irreps (allowed for Majorana-like fields), by dimension.
REAL_REPS = (1, 8, 27)
#: Irreps for Dirac-like pairs (R and its conjugate), by dimension.
PAIR_REPS = (1, 3, 6, 8, 10, 15, 24, 27)


def _rescale(X, N: int):
    """const/N + slope X: the colour rescaling of a (possibly 𝒳-dependent) charge (docstring)."""
    a = as_affine(X)
    return Affine(a.const / N, a.coef) if isinstance(X, Affine) else Fraction(X) / N


def colored(model: AnomalonModel, ml_colors, dl_colors) -> AnomalonModel:
    """The coloured version of a colourless solution, solving (A.18)-(A.20) (module docstring)."""
    ml = tuple(Multiplet(m.n, m.Y, _rescale(m.X, N), N) for m, N in zip(model.ml, ml_colors))
    dl = tuple(DLPair(p.n, p.Y, _rescale(p.X_plus, N), _rescale(p.X_minus, N), N) for p, N in zip(model.dl, dl_colors))
    return replace(model, ml=ml, dl=dl, family=model.family + " coloured")


def su3_anomaly(model: AnomalonModel) -> Fraction:
    """Left side of (A.21), sum n T(N) X over the anomalons (units of 3 alpha_{B+L}).

    Raises ValueError if it depends on the free shift 𝒳 (it never does for DL pairs in
    conjugate representations)."""
    total = sum((as_affine(m.X) * (m.n * DYNKIN_INDEX[m.color]) for m in model.multiplets), as_affine(0))
    if not total.is_constant:
        raise ValueError("(A.21) depends on the shift X")
    return total.const


def colored_solutions(candidates, ml_reps=REAL_REPS, pair_reps=PAIR_REPS) -> list[AnomalonModel]:
    """Coloured models satisfying (A.18)-(A.21), from colourless candidates that pass criteria
    (i) and (iii) (criterion (ii) and integer charges are not imposed on coloured states, whose
    lightest state hadronises), sorted by the number of Weyl components sum n N."""
    out = []
    for cand in candidates:
        if isinstance(cand, Candidate):
            if not set(cand.rejections) <= {REJECT_CHARGED_LP, REJECT_CHARGES}:
                continue
            model = cand.model
        else:
            model = cand
        for ml_c in itertools.product(ml_reps, repeat=len(model.ml)):
            for dl_c in itertools.product(pair_reps, repeat=len(model.dl)):
                if all(c == 1 for c in ml_c + dl_c):
                    continue
                cm = colored(model, ml_c, dl_c)
                if su3_anomaly(cm) == 0:
                    out.append(cm)
    return sorted(out, key=lambda m: (sum(x.n * x.color for x in m.multiplets), m.dims))
