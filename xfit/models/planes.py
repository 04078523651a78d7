"""Two-parameter planes of the papers' figures."""
from __future__ import annotations

import numpy as np

from ..errors import InputError, finite_array, require_finite_number
from ..physics.anomaly import chiral_tau_traces
from ..physics.constants import DEFAULT_SM, SMInputs
from ..physics.x_decay import invisible_branching_ratio
from .base import Model, valid_gX


class EFTPlane(Model):
    """The Wess-Zumino plane (g_X A_XWW, g_X A_XYY) of Fig. 2 (left), at fixed m_X.

    B(X -> invisible) is a fixed input (default 1: X decays to neutrinos only).
    """

    name = "eft-plane"
    kind = "plane"
    parameters = ("gX_AWW", "gX_AYY")
    parameter_labels = {"gX_AWW": r"$g_X\,\mathcal{A}^{\rm SM}_{XWW}$",
                        "gX_AYY": r"$g_X\,\mathcal{A}^{\rm SM}_{XYY}$"}

    def __init__(self, br_invisible: float = 1.0, sm: SMInputs = DEFAULT_SM, loop_normalisation: str | None = None,
                 goldstone: bool | None = None, ew_scheme: str | None = None):
        super().__init__(sm, loop_normalisation, goldstone, ew_scheme)
        self.br_inv = require_finite_number(br_invisible, "br_invisible")
        if not 0 <= self.br_inv <= 1:
            raise InputError(f"br_invisible must be in [0, 1], got {br_invisible}")

    def _details(self) -> dict:
        return {"plane": "eft", "br_invisible": self.br_inv}

    def predict(self, mX, gX_AWW, gX_AYY) -> dict[str, np.ndarray]:
        return self._predict_with_hooks(mX, gX_AWW=gX_AWW, gX_AYY=gX_AYY)

    def _coupling_inputs(self, mX, mass_inputs: dict, gX_AWW, gX_AYY) -> tuple[dict, dict]:
        return {"gX_A_WW": gX_AWW, "gX_A_YY": gX_AYY, "br_invisible": self.br_inv}, {}


class ChiralPlane(Model):
    """The chiral-tau plane (alpha_L g_X, alpha_R g_X) of the chiral paper's Fig. 1 (right).

    A_XWW g_X = -alpha_L g_X, A_XYY g_X = (2 alpha_R - alpha_L) g_X (Eqs. 21-22);
    B(X -> invisible) from the tau couplings (1 below 2 m_tau).
    """

    name = "chiral-plane"
    kind = "plane"
    parameters = ("gX_alphaL", "gX_alphaR")
    parameter_labels = {"gX_alphaL": r"$\alpha_L\,g_X$", "gX_alphaR": r"$\alpha_R\,g_X$"}

    def _details(self) -> dict:
        return {"plane": "chiral", "traces": "g_X A_WW = -alpha_L g_X, g_X A_YY = (2 alpha_R - alpha_L) g_X "
                "(chiral paper Eqs. 21-22)", "br_invisible": "from the tau charges (1 below 2 m_tau)"}

    def predict(self, mX, gX_alphaL, gX_alphaR) -> dict[str, np.ndarray]:
        return self._predict_with_hooks(mX, gX_alphaL=gX_alphaL, gX_alphaR=gX_alphaR)

    def _coupling_inputs(self, mX, mass_inputs: dict, gX_alphaL, gX_alphaR) -> tuple[dict, dict]:
        aL, aR = np.broadcast_arrays(finite_array(gX_alphaL, "g_X alpha_L"), finite_array(gX_alphaR, "g_X alpha_R"))
        cWW, cYY = chiral_tau_traces(aL, aR)
        # B(X -> invisible) depends on the direction alpha_L : alpha_R, so it is evaluated per call;
        # at the SM point (no coupling) the ratio is undefined and the rates vanish: use 1
        br = invisible_branching_ratio(mX, {"tau": (aL, aR)}, 0.0, self.sm, uncoupled=1.0)
        return {"gX_A_WW": cWW, "gX_A_YY": cYY, "br_invisible": br}, {}


class WessZuminoModel(Model):
    """A model given by its Wess-Zumino coefficients alone: fixed (A_XWW, A_XYY) and one
    parameter g_X; B(X -> invisible) is an input (default 1)."""

    kind = "wess_zumino"
    parameters = ("gX",)
    parameter_labels = {"gX": r"$g_X$"}

    def __init__(self, A_WW, A_YY, br_invisible: float = 1.0, XS: float = 1.0,
                 name: str = "wess-zumino", sm: SMInputs = DEFAULT_SM, loop_normalisation: str | None = None,
                 goldstone: bool | None = None, ew_scheme: str | None = None):
        super().__init__(sm, loop_normalisation, goldstone, ew_scheme)
        self.name = name
        self.A_WW = require_finite_number(A_WW, "A_WW")
        self.A_YY = require_finite_number(A_YY, "A_YY")
        self.br_inv = require_finite_number(br_invisible, "br_invisible")
        if not 0 <= self.br_inv <= 1:
            raise InputError(f"br_invisible must be in [0, 1], got {br_invisible}")
        self.XS = require_finite_number(XS, "X_S")
        if self.XS == 0:
            raise InputError("X_S (the U(1)_X charge of the breaking scalar) must be non-zero")

    def _details(self) -> dict:
        return {"A_WW": self.A_WW, "A_YY": self.A_YY, "br_invisible": self.br_inv, "XS": self.XS}

    def predict(self, mX, gX) -> dict[str, np.ndarray]:
        return self._predict_with_hooks(mX, gX=gX)

    def _coupling_inputs(self, mX, mass_inputs: dict, gX) -> tuple[dict, dict]:
        gX = valid_gX(gX)
        return ({"gX_A_WW": gX * self.A_WW, "gX_A_YY": gX * self.A_YY, "br_invisible": self.br_inv,
                 "gX": gX, "XS": self.XS},
                {"A_WW": self.A_WW, "A_YY": self.A_YY, "gX": gX})
