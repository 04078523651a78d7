"""The model interface."""
from __future__ import annotations

import abc

import numpy as np

from ..physics.constants import DEFAULT_SM, SMInputs


class Model(abc.ABC):
    """Maps (m_X, parameters) to predictions.  ``parameters`` names the free parameters in
    the order :meth:`predict` takes them (as keyword arguments, arrays broadcast)."""

    name: str = ""
    parameters: tuple[str, ...] = ()
    parameter_labels: dict[str, str] = {}

    def __init__(self, sm: SMInputs = DEFAULT_SM, loop_normalisation: str | None = None,
                 goldstone: bool | None = None):
        """``loop_normalisation`` ("derived" or "paper", see
        :data:`xfit.physics.constants.LOOP_NORMALISATIONS`) and ``goldstone`` (True: the
        Goldstone-limit rates Eqs. 3.9/3.10; False: a massive vector X) override those of ``sm``."""
        changes = {k: v for k, v in (("loop_normalisation", loop_normalisation), ("goldstone", goldstone))
                   if v is not None}
        self.sm = sm.replace(**changes) if changes else sm

    @property
    def loop_normalisation(self) -> str:
        """The normalisation of the W-loop coupling g_xi this model predicts with."""
        return self.sm.loop_normalisation

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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: parameters {', '.join(self.parameters)}>"
