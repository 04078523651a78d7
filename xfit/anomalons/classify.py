"""Classification of anomalon spectra with N_Psi <= 4, App. A of arXiv:2603.04394.

Families (all anomalons left-handed; charges in units of 3 alpha_{B+L}):

* ``1ML+1DL`` (A.1)-(A.6): ML (n, 0, X1) + DL pair (m, +-Y, X2 = X3);
* ``2DL`` (A.7)-(A.11): DL pairs (n, +-Y1, X1, X2) and (m, +-Y3, X3, X4), n < m;
* ``1DL+2ML`` (A.12)-(A.17): ML (n1, 0, X1), (n2, 0, X2), n1 <= n2, + DL pair (m, +-Y, X3 = X4).

Solving.  One DL pair with ML fields X_i = s_i X_DL (the single-S mass conditions
|X_i| = |X_DL|, Sec. 2.2 (i); (2.6) forces X3 = X4): (2.5) gives X_DL = 1/(4 m Y^2) and (2.4)
then gives ::

    Y^2 = -(sum_i s_i n_i(n_i^2-1) + 2 m(m^2-1)) / (24 m)        (A.3, A.13, A.14, A.16)

Two DL pairs with X1 + X2 = -(X3 + X4) = s (the other sign has none: (2.4) wants s < 0,
(2.5) s > 0): (2.4) gives s = 6 / (m(m^2-1) - n(n^2-1)) (A.10), (2.5) gives
n Y1^2 - m Y3^2 = (m(m^2-1) - n(n^2-1))/12, and (2.6) fixes p = (X1-X2)/(X3-X4) = m Y3/(n Y1)
(A.8-A.9), leaving the free shift 𝒳:  X1,2 = s/2 +- p 𝒳,  X3,4 = -s/2 +- 𝒳.

Scans enumerate integer dimensions and, for two DL pairs, hypercharges in Z/2 up to a bound;
whether Y^2 is the square of a rational is decided exactly on integers (numerator and
denominator in lowest terms must be perfect squares), Fractions are built only for solutions.

Criteria (Sec. 2.2), applied by :func:`assess`: (i) ML fields in real representations (odd n)
and no Witten anomaly; integer electric charges; (ii) in every set of multiplets linked by
Higgs Yukawas (none: the multiplet alone) the lightest state can be neutral - an isolated
multiplet needs a neutral lightest state under Eq. (2.10) (|Y| = (n-1)/2 for a DL pair), a
Higgs-linked set a neutral component somewhere; (iii) n <= 11 (Eq. 2.11).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .criteria import (
    has_integer_charges,
    has_neutral_component,
    higgs_yukawa_links,
    lightest_is_neutral,
    max_perturbative_dim,
)
from .naturalness import DEFAULT_CONVENTION, DEFAULT_DELTA, NaturalnessConvention, naturalness_bound_TeV, printed_bound
from .rational import Affine, as_affine, fraction_str, rational_sqrt
from .spectra import AnomalonModel, DLPair, Multiplet

FAMILY_1ML_1DL = "1ML+1DL"
FAMILY_2DL = "2DL"
FAMILY_1DL_2ML = "1DL+2ML"

REJECT_PSEUDOREAL = "ML field in a pseudoreal SU(2) representation (n even): no Majorana mass (i)"
REJECT_SINGLET_ML = "ML field is an SM singlet (n = 1) (i)"
REJECT_WITTEN = "odd number of Weyl fermions in n = 4l+2: Witten anomaly"
REJECT_CHARGES = "non-integer electric charges"
REJECT_CHARGED_LP = "stable charged lightest anomalon (ii)"
REJECT_PERTURBATIVITY = "SU(2) multiplet too large for perturbativity, Eq. (2.11) (iii)"


def cubic(n: int) -> int:
    """n (n^2 - 1), the SU(2) index combination of Eqs. (2.4), (A.3), (A.8)."""
    return n * (n * n - 1)


def solve_dl_with_ml(m: int, ml_dims: tuple[int, ...], signs: tuple[int, ...], family: str | None = None):
    """One DL pair (m, +-Y) plus ML fields with X_i = s_i X_DL: the model, or None if Y is not rational.

    Y^2 = -(sum s_i n_i(n_i^2-1) + 2 m(m^2-1)) / (24 m),  X_DL = 1/(4 m Y^2)  (A.2-A.3, A.13-A.16).
    """
    K = -(sum(s * cubic(n) for n, s in zip(ml_dims, signs)) + 2 * cubic(m))
    Y = rational_sqrt(Fraction(K, 24 * m)) if K > 0 else None   # Y > 0 and rational
    if Y is None:
        return None
    X_dl = 1 / (4 * m * Y * Y)
    family = family or {1: FAMILY_1ML_1DL, 2: FAMILY_1DL_2ML}.get(len(ml_dims), f"1DL+{len(ml_dims)}ML")
    ml = tuple(Multiplet(n, Fraction(0), s * X_dl) for n, s in zip(ml_dims, signs))
    return AnomalonModel(family, ml, (DLPair(m, Y, X_dl, X_dl),), 2 * X_dl)


def solve_two_dl(n: int, m: int, Y1, Y3):
    """Two DL pairs (n, +-Y1), (m, +-Y3) with the 𝒳-dependent charges of (A.8)-(A.10), or None.

    Requires n != m, Y1, Y3 > 0 and n Y1^2 - m Y3^2 = (m(m^2-1) - n(n^2-1))/12.
    """
    Y1, Y3 = Fraction(Y1), Fraction(Y3)
    if n == m or Y1 <= 0 or Y3 <= 0:
        return None
    D = cubic(m) - cubic(n)
    if 12 * (n * Y1 * Y1 - m * Y3 * Y3) != D:
        return None
    s = Fraction(6, D)
    p = m * Y3 / (n * Y1)
    X = Affine(0, 1)
    pair_n = DLPair(n, Y1, s / 2 + p * X, s / 2 - p * X)
    pair_m = DLPair(m, Y3, -s / 2 + X, -s / 2 - X)
    return AnomalonModel(FAMILY_2DL, (), (pair_n, pair_m), as_affine(s))


@dataclass(frozen=True)
class Candidate:
    """A solution of (2.4)-(2.6) with the single-S mass conditions, and why it fails (i)-(iii)."""

    model: AnomalonModel
    rejections: tuple[str, ...]
    higgs_links: tuple[tuple[int, int, str], ...]  # (node a, node b, "any X" or "X = value")

    @property
    def accepted(self) -> bool:
        return not self.rejections


def _nodes(model: AnomalonModel):
    """Mass multiplets: each ML field and each DL pair; with the Weyl members of each."""
    nodes = [(m.n, m.Y, (m,)) for m in model.ml]
    nodes += [(p.n, p.Y, p.members) for p in model.dl]
    return nodes


def _link(a: Multiplet, b: Multiplet) -> str | None:
    """A renormalisable Higgs Yukawa Psi_a Psi_b H^(+): SU(2)xU(1)_Y (criteria) and X_a + X_b = 0."""
    if not higgs_yukawa_links((a.n, a.Y), (b.n, b.Y)):
        return None
    total = as_affine(a.X) + as_affine(b.X)
    if total.is_constant:
        return "any X" if total.const == 0 else None
    return f"X = {fraction_str(-total.const / total.coef)}"


def assess(model: AnomalonModel, n_pert: int | None = None, cW: float | None = None) -> Candidate:
    """Apply criteria (i)-(iii) of Sec. 2.2 (see module docstring)."""
    n_pert = max_perturbative_dim() if n_pert is None else n_pert
    rejections = []
    if any(m.n % 2 == 0 for m in model.ml):
        rejections.append(REJECT_PSEUDOREAL)
    if any(m.n == 1 for m in model.ml):
        rejections.append(REJECT_SINGLET_ML)
    if sum(1 for m in model.multiplets if m.n % 4 == 2) % 2:
        rejections.append(REJECT_WITTEN)
    if not all(has_integer_charges(m.n, m.Y) for m in model.multiplets):
        rejections.append(REJECT_CHARGES)
    nodes = _nodes(model)
    links = []
    for i in range(len(nodes)):
        for j in range(i + 1, len(nodes)):
            for a in nodes[i][2]:
                for b in nodes[j][2]:
                    kind = _link(a, b)
                    if kind:
                        links.append((i, j, kind))
    parent = list(range(len(nodes)))

    def root(k):
        while parent[k] != k:
            k = parent[k]
        return k

    for i, j, _ in links:
        parent[root(i)] = root(j)
    blocks: dict[int, list[int]] = {}
    for k in range(len(nodes)):
        blocks.setdefault(root(k), []).append(k)
    for members in blocks.values():
        if len(members) == 1:
            n, Y, _ = nodes[members[0]]
            ok = lightest_is_neutral(n, Y, cW)
        else:
            ok = any(has_neutral_component(nodes[k][0], nodes[k][1]) for k in members)
        if not ok:
            rejections.append(REJECT_CHARGED_LP)
            break
    if max(model.dims) > n_pert:
        rejections.append(REJECT_PERTURBATIVITY)
    return Candidate(model, tuple(rejections), tuple(links))


def scan_1ml_1dl(n_max: int = 10, m_max: int = 10, n_pert: int | None = None) -> list[Candidate]:
    """All rational-hypercharge solutions with one ML field (2 <= n <= n_max, even n included
    to exhibit A.5) and one DL pair (1 <= m <= m_max), both signs of X1 = +-X2."""
    out = []
    for n in range(2, n_max + 1):
        for m in range(1, m_max + 1):
            for s in (1, -1):
                model = solve_dl_with_ml(m, (n,), (s,))
                if model is not None:
                    out.append(assess(model, n_pert))
    return out


def scan_two_dl(dim_max: int = 10, y_max=None, n_pert: int | None = None) -> list[Candidate]:
    """Two DL pairs, 1 <= n < m <= dim_max, hypercharges Y1, Y3 in Z/2 with 0 < Y <= y_max
    (default dim_max: twice what (ii) allows).  Solves n y1^2 - m y3^2 = (M - N)/3 for y = 2Y."""
    y_max = Fraction(dim_max if y_max is None else y_max)
    ymax2 = int(2 * y_max)
    out = []
    for n in range(1, dim_max + 1):
        for m in range(n + 1, dim_max + 1):
            D = cubic(m) - cubic(n)
            for y1 in range(1, ymax2 + 1):
                num = 3 * n * y1 * y1 - D  # = 3 m y3^2
                if num <= 0 or num % (3 * m):
                    continue
                y3sq = num // (3 * m)
                y3 = math.isqrt(y3sq)
                if y3 * y3 != y3sq or y3 > ymax2:
                    continue
                model = solve_two_dl(n, m, Fraction(y1, 2), Fraction(y3, 2))
                out.append(assess(model, n_pert))
    return out


def scan_1dl_2ml(dim_max: int = 50, n_pert: int | None = None) -> list[Candidate]:
    """One DL pair (1 <= m <= dim_max) and two ML fields 3 <= n1 <= n2 <= dim_max (odd, as (i)
    requires), every sign pattern of X1 = s1 X3, X2 = s2 X3 (A.12-A.17)."""
    out = []
    odd = range(3, dim_max + 1, 2)
    for n1 in odd:
        for n2 in odd:
            if n2 < n1:
                continue
            for m in range(1, dim_max + 1):
                for signs in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
                    if n1 == n2 and signs == (1, -1):
                        continue  # same model as (-1, 1)
                    model = solve_dl_with_ml(m, (n1, n2), signs)
                    if model is not None:
                        out.append(assess(model, n_pert))
    return out


def with_naturalness(candidates, Delta: float = DEFAULT_DELTA, conv: NaturalnessConvention = DEFAULT_CONVENTION):
    """(candidate, naturalness bound in TeV) for the accepted candidates."""
    return [(c, naturalness_bound_TeV(c.model, Delta, conv)) for c in candidates if c.accepted]


def table2_candidates(m_max: int = 10) -> list[Candidate]:
    """The 1ML+1DL scan behind Table 2: DL pairs up to m_max, ML fields up to 2 m_max + 1."""
    return scan_1ml_1dl(n_max=2 * m_max + 1, m_max=m_max)


def table3_candidates(dim_max: int | None = None) -> list[Candidate]:
    """The 2DL scan behind Table 3 (default dim_max: twice what criterion (ii) allows)."""
    return scan_two_dl(max_perturbative_dim() if dim_max is None else dim_max)


def _naturalness_columns(bound: float, conv: NaturalnessConvention) -> dict:
    return {"naturalness_TeV": round(bound, 3), "naturalness_TeV_printed": printed_bound(bound, conv.table_rounding)}


def table2(Delta: float = DEFAULT_DELTA, min_bound_TeV: float = 1.0, conv: NaturalnessConvention = DEFAULT_CONVENTION,
           m_max: int = 10) -> list[dict]:
    """Table 2: accepted 1ML+1DL models with naturalness bound >= min_bound_TeV at Delta.

    ``naturalness_TeV_printed`` is the bound as a one-decimal table entry, rounded as the
    convention says (truncated for the default ``tables`` reading).
    """
    rows = []
    for c, bound in with_naturalness(table2_candidates(m_max), Delta, conv):
        if bound < min_bound_TeV:
            continue
        ml, dl = c.model.ml[0], c.model.dl[0]
        rows.append({"n": ml.n, "m": dl.n, "Y": fraction_str(dl.Y),
                     "XS_over_3aBL": fraction_str(c.model.XS), **_naturalness_columns(bound, conv)})
    return sorted(rows, key=lambda r: (r["n"], r["m"]))


def table3(Delta: float = DEFAULT_DELTA, min_bound_TeV: float = 1.0, conv: NaturalnessConvention = DEFAULT_CONVENTION,
           dim_max: int | None = None) -> list[dict]:
    """Table 3: accepted 2DL models with naturalness bound >= min_bound_TeV at Delta.

    Reading of the X columns.  Table 3 prints X1/(3 alpha) = X - c, X2/(3 alpha) = -X - c with
    c = 1/(n m).  With (X1, X2) the charges of the (n, +-Y1) pair, Eq. (2.4) fails (residual
    3 alpha_{B+L} in every row, tests/anomalons/test_classify.py); they are the charges of the
    (m, +-Y3) pair, X3 and X4 of Eq. (2.13), which is what ``X1_over_3aBL`` and
    ``X2_over_3aBL`` hold.  The (n, +-Y1) pair carries X + c and -X + c (``fields``).
    """
    rows = []
    for c, bound in with_naturalness(table3_candidates(dim_max), Delta, conv):
        if bound < min_bound_TeV:
            continue
        pn, pm = c.model.dl
        rows.append({"n": pn.n, "m": pm.n, "Y1": fraction_str(pn.Y), "Y3": fraction_str(pm.Y),
                     "X1_over_3aBL": str(pm.X_plus), "X2_over_3aBL": str(pm.X_minus),
                     "XS_over_3aBL": fraction_str(c.model.XS), **_naturalness_columns(bound, conv),
                     "fields": [{"n": f.n, "Y": fraction_str(f.Y), "X_over_3aBL": str(f.X)}
                                for f in c.model.multiplets]})
    return sorted(rows, key=lambda r: (r["n"], r["m"]))
