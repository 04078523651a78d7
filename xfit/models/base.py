"""The model interface."""
from __future__ import annotations

import abc
import copy

import numpy as np

from ..physics.constants import DEFAULT_SM, SMInputs


class Model(abc.ABC):
    """Maps (m_X, parameters) to predictions.  ``parameters`` names the free parameters in
    the order :meth:`predict` takes them (as keyword arguments, arrays broadcast)."""

    name: str = ""
    parameters: tuple[str, ...] = ()
    parameter_labels: dict[str, str] = {}

    def __init__(self, sm: SMInputs = DEFAULT_SM, loop_normalisation: str | None = None,
                 goldstone: bool | None = None, ew_scheme: str | None = None):
        """``loop_normalisation`` ("derived" or "paper", see
        :data:`xfit.physics.constants.LOOP_NORMALISATIONS`) and ``goldstone`` (True: the
        Goldstone-limit rates Eqs. 3.9/3.10; False: a massive vector X) and ``ew_scheme`` ("mz" or
        "alpha0", :data:`xfit.physics.constants.EW_SCHEMES`) override those of ``sm``."""
        changes = {k: v for k, v in (("loop_normalisation", loop_normalisation), ("goldstone", goldstone),
                                     ("ew_scheme", ew_scheme)) if v is not None}
        self.sm = sm.replace(**changes) if changes else sm

    def with_sm(self, sm: SMInputs) -> Model:
        """A copy of this model that predicts with the Standard-Model inputs ``sm`` (used to
        evaluate it at shifted theory inputs, :mod:`xfit.inference.nuisances`).  Models read
        ``self.sm`` when they predict, never cache quantities derived from it."""
        out = copy.copy(self)
        out.sm = sm
        return out

    @property
    def loop_normalisation(self) -> str:
        """The normalisation of the W-loop coupling g_xi this model predicts with."""
        return self.sm.loop_normalisation

    @property
    def ew_scheme(self) -> str:
        """The scheme of the electroweak couplings g, g' ("mz" or "alpha0")."""
        return self.sm.ew_scheme

    @property
    def goldstone(self) -> bool:
        """True if meson-decay rates are the Goldstone-limit Eqs. (3.9)/(3.10)."""
        return self.sm.goldstone

    @abc.abstractmethod
    def predict(self, mX, **params) -> dict[str, np.ndarray]:
        """All predictions at m_X [GeV] for the given parameter values."""

    def sm_point(self) -> dict[str, float]:
        """Parameter values of the Standard Model (no X couplings)."""
        return {p: 0.0 for p in self.parameters}

    def label(self, parameter: str) -> str:
        return self.parameter_labels.get(parameter, parameter)

    #: What kind of model (the key of :func:`xfit.models.build_model` that builds it).
    kind: str = ""

    def describe(self) -> dict:
        """What the model is, as plain data: name, kind, parameters with their labels, the
        anomaly traces A_WW/A_YY (where fixed), charges, the B(X -> invisible) rule, X_S and the
        W-loop normalisation.  Used by ``xfit predict --json`` and the analysis summaries."""
        d = {"name": self.name, "kind": self.kind, "class": type(self).__name__,
             "parameters": {p: self.label(p) for p in self.parameters}}
        d.update(self._details())
        d["loop_normalisation"] = self.loop_normalisation
        d["ew_scheme"] = self.ew_scheme
        return d

    def _details(self) -> dict:
        """The model-specific entries of :meth:`describe` (traces, charges, B(X->inv), X_S)."""
        return {}

    def __repr__(self) -> str:
        d = self.describe()
        extra = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in d.items() if k in ("A_WW", "A_YY", "XS", "br_invisible") and isinstance(v, float))
        return (f"<{type(self).__name__} {self.name!r}: parameters {', '.join(self.parameters)}"
                f"{'; ' + extra if extra else ''}; W loop {self.loop_normalisation}>")
