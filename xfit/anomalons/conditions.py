"""Gauge-anomaly conditions (2.2)-(2.6), (A.21) and the Witten anomaly, with exact residuals.

Normalisation.  The paper writes each condition as "sum = 0" with left-handed fields counted
positively (Eqs. 2.2-2.6 of arXiv:2603.04394; Eqs. 23-27 of the chiral-tau paper), whereas
:func:`xfit.physics.anomaly.anomaly_traces` returns ``Tr[T_a{T_b,T_c}]_R - ..._L`` (Eq. 3.2).
They differ by constant factors, :data:`PAPER_PER_TRACE`::

    (2.2) = -A_X,   (2.3) = -A_XXX/2,   (2.4) = -A_XWW/2,   (2.5) = -A_XYY/2,   (2.6) = -A_XXY/2

Residuals are reported in the paper's normalisation.  Two independent evaluations are made
and must agree exactly (:func:`check_anomalies` raises otherwise):

* *paper form*: the SM terms in the closed forms of Eqs. (2.2)-(2.6) / (23)-(27)
  (:func:`sm_paper_terms`) plus the extra fields' traces rescaled by the factors above;
* *trace form*: :func:`anomaly_traces` of all fields (SM fields one by one + extra fields),
  rescaled by the same factors.

Eq. (A.21), [SU(3)_c^2 U(1)_X] = sum n T(R) X (left-handed positive), is not in anomaly.py and
is evaluated here over all fields; the Witten anomaly counts Weyl fermions in SU(2)
representations n = 4l + 2 (must be even).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..physics.anomaly import AnomalyTraces, anomaly_traces
from .field_content import DYNKIN_INDEX, FieldContent

#: (key, equation, gauge structure) of the perturbative conditions, in the paper's order.
CONDITIONS = (
    ("X", "2.2", "[U(1)_X] (gravitational)"),
    ("XXX", "2.3", "[U(1)_X^3]"),
    ("XWW", "2.4", "[SU(2)_L^2 U(1)_X]"),
    ("XYY", "2.5", "[U(1)_Y^2 U(1)_X]"),
    ("XXY", "2.6", "[U(1)_Y U(1)_X^2]"),
)

#: paper residual = factor * anomaly trace (module docstring).
PAPER_PER_TRACE = {"X": Fraction(-1), "XXX": Fraction(-1, 2), "XWW": Fraction(-1, 2),
                   "XYY": Fraction(-1, 2), "XXY": Fraction(-1, 2)}

#: The conditions that fix the Wess-Zumino terms and that the anomalon classification solves.
ELECTROWEAK_KEYS = ("XWW", "XYY", "XXY")


def paper_from_traces(t: AnomalyTraces) -> dict:
    """The five residuals in the paper's normalisation from anomaly traces."""
    return {k: PAPER_PER_TRACE[k] * getattr(t, k) for k, _, _ in CONDITIONS}


def sm_paper_terms(sm) -> dict:
    """SM contributions to (2.2)-(2.6) in closed form, for vector or chiral lepton charges.

    Vector charges: alpha_e+alpha_mu+alpha_tau, sum alpha_i^3, +3/2 alpha_{B+L},
    -3/2 alpha_{B+L}, 0 (Eqs. 2.2-2.6, 2.7).  Chiral charges (aL, aR) per flavour:
    sum(2 aL - aR), sum(2 aL^3 - aR^3), (3 alpha_B + sum aL)/2, -3 alpha_B/2 + sum(aL/2 - aR),
    sum(aR^2 - aL^2)  (chiral paper Eqs. 23-27).  Quarks (vector, alpha_B/3) cancel in all but
    (2.4)-(2.5).
    """
    aB = Fraction(sm.alpha_B)
    L = [(Fraction(aL), Fraction(aR)) for aL, aR in sm.leptons]
    return {
        "X": sum(2 * aL - aR for aL, aR in L),
        "XXX": sum(2 * aL**3 - aR**3 for aL, aR in L),
        "XWW": (3 * aB + sum(aL for aL, _ in L)) / 2,
        "XYY": -3 * aB / 2 + sum(aL / 2 - aR for aL, aR in L),
        "XXY": sum(aR**2 - aL**2 for aL, aR in L),
    }


def su3_residual(fields, dynkin) -> Fraction:
    """[SU(3)_c^2 U(1)_X], Eq. (A.21): sum over Weyl fields of (+1 L, -1 R) copies n T(R) X."""
    total = Fraction(0)
    for f, T in zip(fields, dynkin):
        total += -f.sign * f.copies * f.n * Fraction(T) * Fraction(f.X)
    return total


@dataclass(frozen=True)
class ConditionResult:
    key: str
    equation: str
    label: str
    residual: Fraction

    @property
    def satisfied(self) -> bool:
        return self.residual == 0


@dataclass(frozen=True)
class AnomalyReport:
    """Residuals of every condition (paper normalisation) and the Witten count."""

    conditions: tuple[ConditionResult, ...]
    su3: ConditionResult
    witten_count: int

    @property
    def witten_ok(self) -> bool:
        return self.witten_count % 2 == 0

    @property
    def all_cancel(self) -> bool:
        return all(c.satisfied for c in self.conditions) and self.su3.satisfied and self.witten_ok

    @property
    def electroweak_cancel(self) -> bool:
        """(2.4)-(2.6) and Witten: what the anomalon classification of App. A solves."""
        return all(c.satisfied for c in self.conditions if c.key in ELECTROWEAK_KEYS) and self.witten_ok

    def residual(self, key: str) -> Fraction:
        return {c.key: c.residual for c in self.conditions}[key]

    def as_dict(self) -> dict:
        from .rational import fraction_str

        rows = [{"condition": c.label, "equation": f"({c.equation})", "satisfied": c.satisfied,
                 "residual": fraction_str(c.residual)} for c in self.conditions + (self.su3,)]
        rows.append({"condition": "Witten SU(2)_L", "equation": "(Sec. 2)", "satisfied": self.witten_ok,
                     "weyl_fermions_in_n=4l+2": self.witten_count})
        return {"all_cancel": self.all_cancel, "conditions": rows}


class InconsistentNormalisation(AssertionError):
    """The paper form and the trace form of a condition disagree (a bug, never user error)."""


def check_anomalies(content: FieldContent) -> AnomalyReport:
    """All anomaly conditions for ``content``; exact residuals in the paper's normalisation."""
    extra = paper_from_traces(anomaly_traces(content.fields)) if content.fields else {k: 0 for k in PAPER_PER_TRACE}
    sm = sm_paper_terms(content.sm)
    paper = {k: Fraction(sm[k]) + Fraction(extra[k]) for k in PAPER_PER_TRACE}
    full = anomaly_traces(content.all_fields())
    traced = {k: Fraction(v) for k, v in paper_from_traces(full).items()}
    if paper != traced:
        raise InconsistentNormalisation(f"paper form {paper} != trace form {traced}")
    sm_fields = content.sm.fields()
    sm_T = [DYNKIN_INDEX[f.N] for f in sm_fields]
    su3 = su3_residual(sm_fields + list(content.fields), sm_T + list(content.dynkin))
    results = tuple(ConditionResult(k, eq, label, paper[k]) for k, eq, label in CONDITIONS)
    return AnomalyReport(results, ConditionResult("SU3", "A.21", "[SU(3)_c^2 U(1)_X]", su3), full.witten_doublets)
