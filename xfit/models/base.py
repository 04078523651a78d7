"""The model interface."""
from __future__ import annotations

import abc
import copy
from collections.abc import Iterable

import numpy as np

from ..physics.constants import DEFAULT_SM, SMInputs
from ..predictions import Predictor


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
        if not isinstance(sm, SMInputs):
            from ..errors import InputError

            raise InputError(f"Standard-Model inputs must be an xfit.physics.constants.SMInputs, got {sm!r:.80}")
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

    def predictor(self, mX) -> ModelPredictor:
        """:meth:`predict` at fixed ``mX`` for repeated calls (fits, MCMC, scans in the
        couplings): the parts that depend on m_X alone are computed once, each call is a few
        array operations.  ``model.predictor(mX)(**params)`` equals ``model.predict(mX, **params)``."""
        return ModelPredictor(self, mX)

    def _predict_with_hooks(self, mX, **params) -> dict[str, np.ndarray]:
        """:meth:`predict` of a model that implements the two hooks below."""
        return ModelPredictor(self, mX, through_predict=False)(**params)

    # the two hooks of ModelPredictor; a model without them is called through predict()
    def _mass_inputs(self, mX) -> dict:
        """Model inputs that depend on m_X alone (e.g. B(X -> invisible) from the charges)."""
        return {}

    def _coupling_inputs(self, mX, mass_inputs: dict, **params) -> tuple[dict, dict]:
        """(the arguments of :class:`xfit.predictions.Predictor` at these parameter values,
        the model's own keys {key: value} added to the predictions: a float is filled to the
        common shape, an array broadcast to it)."""
        raise NotImplementedError

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


def valid_gX(gX) -> np.ndarray:
    """g_X as a float array (:func:`xfit.errors.finite_array`); InputError unless finite and
    >= 0, showing at most 80 characters of what was given."""
    from ..errors import InputError, finite_array

    try:
        return finite_array(gX, "g_X", 0.0)
    except InputError:
        raise InputError(f"g_X must be a finite number >= 0, got {gX!r:.80}") from None


class ModelPredictor:
    """``model.predict(mX, **params)`` at one fixed m_X (:meth:`Model.predictor`).

    Holds the m_X-dependent factors of every prediction (:class:`xfit.predictions.Predictor`)
    and of the model's inputs; ``predictor(**params)`` returns what ``model.predict(mX,
    **params)`` returns, ``predictor(keys=[...], **params)`` only those keys (and ``"mX"``).
    A model that does not implement the hooks is called through its ``predict``.
    """

    def __init__(self, model: Model, mX, through_predict: bool | None = None):
        self.model = model
        self.parameters = tuple(model.parameters)
        self._names = frozenset(self.parameters)
        if through_predict is None:  # if the model lacks the hooks, or a subclass overrides predict() alone
            predict_from, hooks_from = (next(c for c in type(model).__mro__ if name in vars(c))
                                        for name in ("predict", "_coupling_inputs"))
            through_predict = hooks_from is Model or (predict_from is not hooks_from
                                                      and issubclass(predict_from, hooks_from))
        self._direct = through_predict
        if self._direct:
            from ..errors import validate_mass

            self.mX = validate_mass(mX)
            return
        self.core = Predictor(mX, model.sm)
        self.mX = self.core.mX
        self.mass_inputs = model._mass_inputs(self.mX)

    def keys(self) -> tuple[str, ...]:
        """The prediction keys this model gives (without evaluating any prediction)."""
        sm = self.model.sm_point()
        if self._direct:
            return tuple(self.model.predict(self.mX, **sm))
        args, extras = self.model._coupling_inputs(self.mX, self.mass_inputs, **sm)
        core = [k for k in self.core.keys if k != "v_X" or args.get("gX") is not None]
        return (*core, *(k for k in extras if k not in core))

    def _check_names(self, params) -> None:
        """InputError naming the first unknown or missing parameter of the model."""
        from ..errors import InputError

        accepted = ", ".join(self.parameters)
        unknown = [k for k in params if k not in self._names]
        if unknown:
            raise InputError(f"unknown parameter {unknown[0]!r:.80} of model {self.model.name!r:.40}; "
                             f"accepted: {accepted}")
        missing = [k for k in self.parameters if k not in params]
        raise InputError(f"no value of parameter {missing[0]!r} of model {self.model.name!r:.40}; "
                         f"needed: {accepted}")

    def __call__(self, *, keys: Iterable[str] | None = None, **params) -> dict[str, np.ndarray]:
        if params.keys() != self._names:
            self._check_names(params)
        if isinstance(keys, str):
            from ..errors import InputError

            raise InputError(f"keys must be a list of prediction keys, got the string {keys!r:.80}")
        if keys is not None and type(keys) is not tuple:  # read once: a generator is used twice below
            try:
                keys = tuple(keys)
            except TypeError:
                from ..errors import InputError, shown

                raise InputError(f"keys must be a list of prediction keys, got {shown(keys)}") from None
        if self._direct:
            out = self.model.predict(self.mX, **params)
            return out if keys is None else {k: v for k, v in out.items() if k == "mX" or k in keys}
        args, extras = self.model._coupling_inputs(self.mX, self.mass_inputs, **params)
        core_keys = None if keys is None else [k for k in keys if k not in extras]
        out = self.core(**args, keys=core_keys)
        shape = np.shape(out["mX"])
        for k, v in extras.items():
            if keys is None or k in keys:
                out[k] = np.full(shape, v) if isinstance(v, float) else np.broadcast_to(v, shape)
        return out
