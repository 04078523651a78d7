"""Theory inputs as profiled Gaussian nuisance parameters (``--theory-nuisances``).

Every input that :mod:`xfit.uncertainties` varies (CKM, m_t, m_b, m_c, m_s, alpha(m_Z),
s_W^2 and the form-factor parameters, with the standard deviations and correlations of
``data/theory_uncertainties.yaml``) is written as central + scale * sigma * z, z = F nu for a
correlated group (F the group's factor, :func:`xfit.uncertainties.correlated_groups`) and
z = nu otherwise, with independent standardised nuisances nu (:func:`xfit.uncertainties.input_nuisances`).
A fit adds the Gaussian constraint sum nu^2 to chi2 and minimises over nu together with the
model parameters (:class:`xfit.inference.fit.Fit`, ``theory_nuisances=True``).

Predictions at nu are EXACT: the model is evaluated with the shifted inputs
(:meth:`xfit.models.base.Model.with_sm` and :func:`xfit.physics.form_factors.substituted_models`),
through the same code as the central prediction; nothing is linearised.  At nu = 0 they
equal the central predictions bit for bit.

Only nuisances that move an observable of the likelihood at this m_X are profiled
(:attr:`TheoryNuisances.names`); the others (``inert``: e.g. every form factor for a
likelihood of g_S, g_P and B(Z -> gamma X) only, or a channel closed at this m_X) would sit
at nu = 0 whatever the fit does, and are reported but not minimised.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError, require_finite_number
from ..models.base import Model

#: Relative change of an observable below which a unit nuisance counts as not moving it
#: (rounding of the same expression evaluated twice is ~1e-16).
INERT_RTOL = 1e-12
#: Parameter value used to probe which nuisances matter where a start value is 0 (at the SM
#: point every rate vanishes whatever the inputs).
PROBE_VALUE = 0.01
#: Predictors at shifted inputs kept by :meth:`TheoryNuisances._predictor_at` (the least recently
#: used is dropped; ~8 kB each).  A fit comes back to nuisance values it has evaluated, often
#: hundreds of calls later: MIGRAD's numerical derivatives move one parameter at a time,
#: HESSE visits every pair, and the profiles of a limit (MIGRAD at several fixed g_X from the
#: same best point, brentq's bracket evaluated again) start with the same nuisance steps.
RECENT_PREDICTORS = 1024


class TheoryNuisances:
    """The standardised nuisances of the theory inputs for ``model`` and ``likelihood`` at
    ``mX``.  ``scale`` multiplies every standard deviation (0: the inputs do not move and the
    fit is the plain one); ``probe``: a parameter point with non-zero couplings at which the
    nuisances are classified (default ``PROBE_VALUE`` for every parameter)."""

    def __init__(self, model: Model, likelihood, mX: float, scale: float = 1.0,
                 probe: Mapping[str, float] | None = None):
        from ..uncertainties import input_nuisances

        self.model, self.mX = model, float(mX)
        self.scale = require_finite_number(scale, "theory_scale (the factor on every theory sigma)")
        if self.scale < 0:
            raise InputError(f"theory_scale (the factor on every theory sigma) must be >= 0, got {scale!r}")
        self.catalogue = input_nuisances()
        self._recent: dict = {}  # predictors at recent inputs (_predictor_at)
        point = {p: float((probe or {}).get(p) or PROBE_VALUE) for p in model.parameters}
        observables = tuple(likelihood.observables)
        sm_point = model.sm_point()
        # every nuisance at +1 (the others at 0) in ONE vectorised evaluation: row j of the
        # batch is the prediction with nuisance j shifted
        moved = self._moved_by_unit_shifts(self.catalogue, point, observables)
        active = [n for n, m in zip(self.catalogue, moved) if m]
        inert = [n for n, m in zip(self.catalogue, moved) if not m]
        #: True if some nuisance moves an observable at the SM point (else chi2 of the SM
        #: does not depend on them and is the central one)
        self.moves_sm = bool(active) and any(self._moved_by_unit_shifts(active, sm_point, observables))
        self.active = tuple(active)
        self.names = tuple(n.name for n in active)
        self.inert = tuple(n.name for n in inert)
        self.keys = tuple(n.key for n in active)

    def _moved_by_unit_shifts(self, nuisances, params: Mapping[str, float], observables) -> list[bool]:
        """[does a unit shift of nuisance n (the others at 0) move an observable at ``params``?
        for n in ``nuisances``]: one batch of len(nuisances) shifted inputs (row j: nuisance j
        at 1), each row compared with the central prediction as by :meth:`_moves`."""
        base = _predict(self.model, self.mX, params, observables)
        k = len(nuisances)
        normals = {n.key: np.eye(k)[j] for j, n in enumerate(nuisances)}
        batch = self._predict_keys_batch({p: np.full(k, v) for p, v in params.items()}, normals, k, observables)
        moved = np.zeros(k, dtype=bool)
        for o in observables:  # _moves for every row at once (np.allclose is np.isclose(...).all())
            after = np.asarray(batch[o], dtype=float)
            after = np.broadcast_to(after, (k,)) if after.ndim == 0 else after.reshape(k, -1)
            same = np.isclose(np.asarray(base[o], dtype=float), after, rtol=INERT_RTOL, atol=0.0, equal_nan=True)
            moved |= ~same.reshape(k, -1).all(axis=1)
        return moved.tolist()

    @staticmethod
    def _moves(before, after) -> bool:
        a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
        return not np.allclose(a, b, rtol=INERT_RTOL, atol=0.0, equal_nan=True)

    def _predict_keys(self, params: Mapping[str, float], normals: Mapping, keys=None) -> dict:
        from ..physics.form_factors import substituted_models
        from ..uncertainties import inputs_at

        if keys is not None:  # the predictor at these inputs, kept: a fit moves the parameters alone often
            predictor, inputs = self._predictor_at(normals)
            with substituted_models(inputs.form_factor_models):
                return predictor(keys=keys, **params)
        inputs = inputs_at(self.model.sm, normals, self.scale)
        with substituted_models(inputs.form_factor_models):
            return _predict(self.model.with_sm(inputs.sm), self.mX, params, keys)

    def _predictor_at(self, normals: Mapping):
        """(``model.with_sm(shifted).predictor(mX)``, the shifted inputs) at scalar ``normals``,
        one of the :data:`RECENT_PREDICTORS` most recently used kept (its factors of m_X, computed
        on first use inside the inputs' form factors, are those of a fresh one: the same numbers)."""
        from ..uncertainties import inputs_at

        recent = self._recent
        key = tuple((k, float(v)) for k, v in normals.items())
        hit = recent.pop(key, None)
        if hit is None:
            inputs = inputs_at(self.model.sm, normals, self.scale)
            if len(recent) >= RECENT_PREDICTORS:
                del recent[next(iter(recent))]  # the least recently used
            hit = (self.model.with_sm(inputs.sm).predictor(self.mX), inputs)
        recent[key] = hit  # (re-)inserted last: the most recently used
        return hit

    def __getstate__(self) -> dict:
        """Pickled (e.g. for worker processes) without the kept predictors."""
        return {**self.__dict__, "_recent": {}}

    def predict(self, params: Mapping[str, float], nu: Sequence[float], keys=None) -> dict:
        """The model's predictions at ``params`` with the active nuisances at ``nu``; with
        ``keys`` (e.g. a likelihood's observables) only those (and ``"mX"``), the same values."""
        if len(nu) != len(self.keys):
            raise InputError(f"{len(nu)} nuisance values given for the {len(self.keys)} theory nuisances")
        return self._predict_keys(params, dict(zip(self.keys, (float(v) for v in nu))), keys)

    def predict_batch(self, params: Mapping[str, np.ndarray], nu: np.ndarray, keys=None) -> dict:
        """Predictions at N points in ONE vectorised evaluation: ``params`` {name: array (N,)},
        ``nu`` of shape (N, number of active nuisances); the inputs become a batch of draws
        (an SMInputs with array fields, array-valued form-factor parameters).  ``keys`` as in
        :meth:`predict`."""
        nu = np.asarray(nu, dtype=float)
        n = nu.shape[0]
        normals = {k: nu[:, j] for j, k in enumerate(self.keys)}
        return self._predict_keys_batch({p: np.broadcast_to(v, (n,)) for p, v in params.items()}, normals, n, keys)

    def _predict_keys_batch(self, params, normals, n: int, keys=None) -> dict:
        from ..physics.form_factors import substituted_models
        from ..uncertainties import inputs_at

        inputs = inputs_at(self.model.sm, normals, self.scale)
        with substituted_models(inputs.form_factor_models):
            return _predict(self.model.with_sm(inputs.sm), np.full(n, self.mX), params, keys)

    @staticmethod
    def constraint(nu: Sequence[float]) -> float:
        """The Gaussian constraint sum nu^2 added to chi2."""
        v = np.asarray(nu, dtype=float)
        return float(v @ v)

    def input_shifts(self, nu: Sequence[float]) -> dict[str, float]:
        """{input: (fitted - central)/sigma} of every input the nuisances move (non-zero shifts)."""
        from ..uncertainties import input_shifts

        shifts = input_shifts(dict(zip(self.keys, (float(v) for v in nu))))
        return {k: v for k, v in shifts.items() if v != 0.0}

    def summary(self, values: Mapping[str, float], errors: Mapping[str, float]) -> dict:
        """What a result reports: the nuisances' post-fit values and errors (``values``,
        ``errors`` keyed by nuisance name), the constraint, the input shifts and the inert ones."""
        nu = [values[n] for n in self.names]
        return {"used": True, "scale": self.scale, "source": "data/theory_uncertainties.yaml",
                "nuisances": {n: {"value": float(values[n]), "error": float(errors[n])} for n in self.names},
                "constraint_chi2": self.constraint(nu),
                "input_shifts_sigma": self.input_shifts(nu),
                "inert": list(self.inert)}

    def __repr__(self) -> str:
        return (f"<TheoryNuisances {self.model.name} at mX = {self.mX:g} GeV: {len(self.names)} profiled, "
                f"{len(self.inert)} inert, scale {self.scale:g}>")


def _predict(model: Model, mX, params: Mapping, keys) -> dict:
    """``model.predict(mX, **params)``; with ``keys`` only those predictions (and ``"mX"``),
    each the same number (:meth:`Model.predictor` evaluates only what is asked for: a fit of
    b -> s missing energy then computes no K, D, rho or Z rate at every shifted input)."""
    if keys is None:
        return model.predict(mX, **params)
    return model.predictor(mX)(keys=keys, **params)
