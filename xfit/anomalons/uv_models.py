"""The explicit UV models of Sec. 4 of arXiv:2603.04394 and Sec. IV of the chiral-tau paper:
their anomalon multiplets, X_S, full field contents (Tables 5, 6, III, IV) and the unitarity
mass ceilings at the Belle II best fit (for Fig. 3 and the text of Secs. 4.1-4.2).

All vector-current models use the tau-flavour benchmark alpha_tau = 1 (alpha_{B+L} = 1/3,
so charges in units of 3 alpha_{B+L} are the charges themselves).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..physics.anomaly import WeylField
from .chiral_tau import l_minus_4r_content, l_only_content
from .field_content import FieldContent, SMCharges
from .unitarity import BEST_FIT_GX, BEST_FIT_MX, mass_ceiling, yukawa_unitarity_bound


@dataclass(frozen=True)
class UVBenchmark:
    """Anomalon mass multiplets (label, n, 'DL' or 'ML'), X_S, best-fit (m_X, g_X), source."""

    name: str
    source: str
    multiplets: tuple[tuple[str, int, str], ...]
    XS: Fraction
    mX: float = BEST_FIT_MX
    gX: float = BEST_FIT_GX

    def ceilings(self, mX: float | None = None, gX: float | None = None) -> dict:
        """{label: (y_max, m_max in GeV)} from perturbative unitarity."""
        mX = self.mX if mX is None else mX
        gX = self.gX if gX is None else gX
        return {label: (yukawa_unitarity_bound(n, kind), float(mass_ceiling(n, kind, self.XS, mX, gX)))
                for label, n, kind in self.multiplets}


BENCHMARKS = {b.name: b for b in (
    UVBenchmark("1DL-1ML m=2", "Table 2 row 1; Eqs. (4.4)-(4.5)", (("A", 2, "DL"), ("B", 3, "ML")), Fraction(1)),
    UVBenchmark("1DL-1ML m=3", "Table 5; Eqs. (4.6)-(4.7)", (("A", 3, "DL"), ("B", 5, "ML")), Fraction(1, 6)),
    UVBenchmark("2DL m=1", "Table 6; Eqs. (4.9)-(4.10)", (("A", 1, "DL"), ("B", 2, "DL")), Fraction(1)),
    UVBenchmark("L-only", "chiral-tau paper Table III; Eq. (43)", (("L", 2, "DL"),), Fraction(1)),
    UVBenchmark("L=-4R", "chiral-tau paper Table IV; Eq. (59)", (("L", 3, "DL"),), Fraction(1), gX=0.0042),
)}


def table5_content() -> FieldContent:
    """Table 5: 1DL-1ML model of Eq. (A.6) with m = 3, alpha_tau = 1."""
    t = Fraction(1, 12)
    return FieldContent(SMCharges.vector(alpha_tau=1), (
        WeylField("A_L", "L", 3, 1, t), WeylField("A_R", "R", 3, 1, -t), WeylField("B_L", "L", 5, 0, -t),
        WeylField("N_R^1", "R", 1, 0, t), WeylField("N_R^2", "R", 1, 0, 1)),
        description="arXiv:2603.04394 Table 5")


def table6_content(shift=0) -> FieldContent:
    """Table 6: 2DL model of Eq. (A.11) with m = 1, alpha_tau = 1, at 𝒳 = shift."""
    x, h = Fraction(shift), Fraction(1, 2)
    return FieldContent(SMCharges.vector(alpha_tau=1), (
        WeylField("A_L", "L", 1, 1, x + h), WeylField("A_R", "R", 1, 1, x - h),
        WeylField("B_L", "L", 2, h, x - h), WeylField("B_R", "R", 2, h, x + h),
        WeylField("N_R^1", "R", 1, 0, x - h), WeylField("N_R^2", "R", 1, 0, -x - h),
        WeylField("N_R^3", "R", 1, 0, 1)),
        description=f"arXiv:2603.04394 Table 6 at X = {x}")


#: Field contents of the explicit models, by benchmark name (None: not tabulated in the paper).
CONTENTS = {"1DL-1ML m=3": table5_content, "2DL m=1": table6_content,
            "L-only": l_only_content, "L=-4R": l_minus_4r_content}
