"""Models defined by U(1)_X charges of the SM fields."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from numbers import Rational

import numpy as np

from ..errors import InputError, require_finite_number
from ..physics.anomaly import LEPTON_FLAVOURS, WeylField, anomaly_traces, sm_fields
from ..physics.constants import DEFAULT_SM, SMInputs
from ..physics.x_decay import invisible_branching_ratio
from .base import Model, valid_gX


def _exact(x) -> Fraction:
    """A charge as an exact fraction: Fractions and ints as given; a float as the decimal a user
    typed (its shortest repr, 0.1 -> 1/10), or as the simple fraction it rounds (1/3 -> 1/3)."""
    if isinstance(x, Rational):
        return Fraction(x)
    typed = Fraction(repr(float(x)))
    simple = typed.limit_denominator(10**6)
    return simple if float(simple) == float(x) else typed


class ChargeModel(Model):
    """X = alpha_B B + chiral lepton charges (alpha_L, alpha_R) per flavour.

    The anomaly traces come from the general field table (Eq. 3.2) via
    :func:`xfit.physics.anomaly.anomaly_traces`; the single parameter is g_X.
    """

    kind = "charges"
    parameters = ("gX",)
    parameter_labels = {"gX": r"$g_X$"}
    #: The Weyl-field table of a model built by :meth:`from_fields` (None: SM charges only).
    table: tuple[WeylField, ...] | None = None
    #: Why B(X -> invisible) cannot be computed for this field table (None: it can).
    br_invisible_problem: str | None = None

    def __init__(self, alpha_B=0.0, lepton_charges: Mapping[str, tuple] | None = None,
                 name: str = "custom", XS: float = 1.0, br_invisible: float | None = None,
                 sm: SMInputs = DEFAULT_SM, description: str = "", loop_normalisation: str | None = None,
                 goldstone: bool | None = None, ew_scheme: str | None = None):
        super().__init__(sm, loop_normalisation, goldstone, ew_scheme)
        self.name = name
        self.description = description
        self.alpha_B = require_finite_number(alpha_B, "alpha_B")
        lepton_charges = dict(lepton_charges or {})
        unknown = set(lepton_charges) - set(LEPTON_FLAVOURS)
        if unknown:
            raise InputError(f"unknown lepton flavour(s) {sorted(unknown)}; accepted: {', '.join(LEPTON_FLAVOURS)}")
        for f, pair in lepton_charges.items():
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise InputError(f"lepton_charges[{f!r}] must be a pair (alpha_L, alpha_R), got {pair!r}")
        self.lepton_charges = {
            f: (require_finite_number(aL, f"alpha_L({f})"), require_finite_number(aR, f"alpha_R({f})"))
            for f, (aL, aR) in lepton_charges.items()
        }
        self.XS = require_finite_number(XS, "X_S")
        if self.XS == 0:
            raise InputError("X_S (the U(1)_X charge of the breaking scalar) must be non-zero")
        self.br_invisible_override = (None if br_invisible is None
                                      else require_finite_number(br_invisible, "br_invisible"))
        if self.br_invisible_override is not None and not 0 <= self.br_invisible_override <= 1:
            raise InputError(f"br_invisible must be in [0, 1], got {br_invisible}")
        traces = anomaly_traces(self.fields())
        self.A_WW, self.A_YY = float(traces.XWW), float(traces.XYY)

    # --- constructors ----------------------------------------------------------------
    @classmethod
    def vector(cls, alpha_B=0.0, alpha_e=0.0, alpha_mu=0.0, alpha_tau=0.0, **kw) -> ChargeModel:
        """Vector charges X = alpha_B B + sum_i alpha_i L_i (Eq. 1.1)."""
        charges = {"e": alpha_e, "mu": alpha_mu, "tau": alpha_tau}
        leptons = {f: (a, a) for f, a in charges.items()
                   if require_finite_number(a, f"alpha_{f}") != 0}
        return cls(alpha_B=alpha_B, lepton_charges=leptons, **kw)

    @classmethod
    def chiral_tau(cls, alpha_L, alpha_R, **kw) -> ChargeModel:
        """Chiral tau-lepton charges (chiral paper Eq. 2)."""
        return cls(lepton_charges={"tau": (alpha_L, alpha_R)}, **kw)

    @classmethod
    def from_fields(cls, fields: Iterable[WeylField], name: str = "field-table", **kw) -> ChargeModel:
        """From a table of light Weyl fields (e.g. :func:`xfit.physics.anomaly.sm_fields`, or a
        file read by :func:`xfit.models.field_table.read_field_table`).

        The anomaly traces are those of the table itself (:func:`anomaly_traces`: every field,
        its chirality, SU(2) dimension, hypercharge, colour and copies).  B(X -> invisible)
        follows from the lepton doublet/singlet charges when the table maps onto SM charges
        alpha_B B + (alpha_L, alpha_R) per lepton flavour
        (:func:`xfit.models.field_table.sm_charges_of`); otherwise ``br_invisible`` must be given
        (without it, :meth:`br_invisible` and :meth:`predict` raise InputError saying why).
        """
        from .field_table import sm_charges_of

        table = tuple(fields)
        mapped, reason = sm_charges_of(table)
        alpha_B, leptons = mapped if mapped is not None else (0.0, {})
        model = cls(alpha_B=alpha_B, lepton_charges=leptons, name=name, **kw)
        model.table = table
        if mapped is None:
            model.br_invisible_problem = (f"field table {name!r}: B(X -> invisible) does not follow from its "
                                          f"fields ({reason});\ngive it with --br-invisible")
        traces = anomaly_traces(table)
        model.A_WW, model.A_YY = float(traces.XWW), float(traces.XYY)
        return model

    # --- physics ------------------------------------------------------------------------
    def fields(self) -> list[WeylField]:
        """The field table: the one given to :meth:`from_fields`, else the SM fields with exact
        charges (decimal inputs as Fractions: 0.1 -> 1/10)."""
        if self.table is not None:
            return list(self.table)
        exact = {f: (_exact(aL), _exact(aR)) for f, (aL, aR) in self.lepton_charges.items()}
        return sm_fields(_exact(self.alpha_B), exact)

    def br_invisible(self, mX):
        if self.br_invisible_override is not None:
            return np.full(np.shape(mX), self.br_invisible_override) if np.ndim(mX) else self.br_invisible_override
        if self.br_invisible_problem is not None:
            raise InputError(self.br_invisible_problem)
        try:
            return invisible_branching_ratio(mX, self.lepton_charges, self.alpha_B, self.sm)
        except InputError as exc:  # name the option that supplies the number
            raise InputError(str(exc).replace("pass br_invisible explicitly",
                                              "give it with --br-invisible B, a number in [0, 1] "
                                              "(model key br_invisible in analysis files)")) from None

    def predict(self, mX, gX) -> dict[str, np.ndarray]:
        return self._predict_with_hooks(mX, gX=gX)

    def _mass_inputs(self, mX) -> dict:
        return {"br_invisible": self.br_invisible(mX)}

    def _coupling_inputs(self, mX, mass_inputs: dict, gX) -> tuple[dict, dict]:
        gX = valid_gX(gX)
        return ({"gX_A_WW": gX * self.A_WW, "gX_A_YY": gX * self.A_YY, "br_invisible": mass_inputs["br_invisible"],
                 "gX": gX, "XS": self.XS},
                {"A_WW": self.A_WW, "A_YY": self.A_YY, "gX": gX})

    def charges(self) -> dict[str, float]:
        d = {"alpha_B": self.alpha_B}
        for f, (aL, aR) in self.lepton_charges.items():
            if aL == aR:
                d[f"alpha_{f}"] = aL
            else:
                d[f"alpha_L({f})"], d[f"alpha_R({f})"] = aL, aR
        return d

    def _details(self) -> dict:
        rule = (self.br_invisible_override if self.br_invisible_override is not None
                else "from the charges: tree-level Gamma(X -> nu nu) / Gamma(X -> leptons) (Eq. 3.28 generalised)")
        d = {"A_WW": self.A_WW, "A_YY": self.A_YY, "charges": self.charges(), "br_invisible": rule, "XS": self.XS}
        return {**d, "description": self.description} if self.description else d

    def __repr__(self) -> str:
        ch = ", ".join(f"{k}={v:g}" for k, v in self.charges().items() if v != 0)
        br = "" if self.br_invisible_override is None else f", B(X->inv)={self.br_invisible_override:g}"
        return (f"<ChargeModel {self.name!r}: {ch or 'no charges'}; A_WW={self.A_WW:g}, A_YY={self.A_YY:g}, "
                f"XS={self.XS:g}{br}; W loop {self.loop_normalisation}>")
