"""Priors, declared one per parameter.

Four small classes, all with the same interface:

* :class:`Uniform` ``(low, high)`` — flat on [low, high];
* :class:`LogUniform` ``(low, high)`` — flat in ln x on [low, high], 0 < low < high
  (p(x) = 1 / (x ln(high/low)));
* :class:`Gaussian` ``(mean, sigma)`` — a normal distribution;
* :class:`TruncatedGaussian` ``(mean, sigma, low, high)`` — a normal restricted to
  [low, high] and renormalised there (either bound may be infinite, not both).

Each has ``logpdf(x)`` (vectorised, normalised, ``-inf`` outside the support),
``sample(n, rng)`` (``rng`` a :class:`numpy.random.Generator`), ``ppf(u)`` (the inverse
CDF, to map the unit cube onto the prior, for transforms and nested-sampling-type
methods), ``support`` and a readable ``repr`` (``Uniform(0, 0.1)``).  Bad arguments raise
:class:`xfit.errors.InputError` with the reason (``LogUniform(0, 1)`` -> "log-uniform prior
needs 0 < low < high").

:class:`PriorSet` holds the priors of a model's parameters in the model's order and
evaluates the joint (independent) prior on arrays of shape ``(n, ndim)``.
:func:`parse_prior` reads the command-line form ``"gX:loguniform:1e-4:0.1"``;
:func:`default_priors` gives xfit's defaults (``gX``: uniform on [0, 0.1]).
"""
from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import special

from ..errors import InputError, require_finite_number

#: Default prior of the gauge coupling g_X (documented in docs/bayes.md).
DEFAULT_GX_RANGE = (0.0, 0.1)

_LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _number(value, what: str, allow_inf: bool = False) -> float:
    if allow_inf and isinstance(value, (int, float, np.floating)) and math.isinf(value):
        return float(value)
    if allow_inf and isinstance(value, str) and value.strip().lower() in ("inf", "+inf", "-inf"):
        return float(value)
    return require_finite_number(value, what)


def _check_u(u) -> np.ndarray:
    u = np.asarray(u, dtype=float)
    if not (u.size == 0 or (u.min() >= 0.0 and u.max() <= 1.0)):  # NaN fails both comparisons
        raise InputError("ppf needs probabilities u in [0, 1]")
    return u


class Prior(abc.ABC):
    """A one-dimensional prior density."""

    #: short name used by :func:`parse_prior` and in summaries
    kind: str = ""

    @property
    @abc.abstractmethod
    def support(self) -> tuple[float, float]:
        """(lowest, highest) value with non-zero density (may be infinite)."""

    @abc.abstractmethod
    def logpdf(self, x) -> np.ndarray:
        """ln p(x), normalised; ``-inf`` outside the support.  Vectorised."""

    @abc.abstractmethod
    def ppf(self, u) -> np.ndarray:
        """The inverse CDF: maps u in [0, 1] onto the prior.  Vectorised."""

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def sample(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """``n`` independent draws (inverse-CDF sampling with ``rng.random``)."""
        if rng is None:
            rng = np.random.default_rng()
        n = int(n)
        if n < 0:
            raise InputError(f"number of prior samples must be >= 0, got {n}")
        return np.asarray(self.ppf(rng.random(n)), dtype=float)

    def contains(self, x) -> np.ndarray:
        lo, hi = self.support
        x = np.asarray(x, dtype=float)
        return (x >= lo) & (x <= hi)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **self._args()}

    @abc.abstractmethod
    def _args(self) -> dict: ...

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._args() == other._args()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self._args().items())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(_fmt(v) for v in self._args().values())})"


class _IntervalPrior(Prior):
    """A prior on a finite interval [low, high]; ``minimum_low`` None means any low < high."""

    label = ""
    minimum_low: float | None = None

    def __init__(self, low, high):
        self.low = _number(low, f"{self.label} prior: low")
        self.high = _number(high, f"{self.label} prior: high")
        bound = "low < high" if self.minimum_low is None else f"{self.minimum_low:g} < low < high"
        ok = self.low < self.high and (self.minimum_low is None or self.minimum_low < self.low)
        if not ok:
            raise InputError(f"{self.label} prior needs {bound}, got low = {self.low:g}, high = {self.high:g}")

    @property
    def support(self):
        return (self.low, self.high)

    def _args(self):
        return {"low": self.low, "high": self.high}


class Uniform(_IntervalPrior):
    """Flat on [low, high] (low < high, both finite)."""

    kind = "uniform"
    label = "uniform"

    def __init__(self, low, high):
        super().__init__(low, high)
        self._log_norm = -math.log(self.high - self.low)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(self.contains(x), self._log_norm, -np.inf)
        return out if out.ndim else float(out)

    def ppf(self, u):
        u = _check_u(u)
        out = self.low + u * (self.high - self.low)
        return out if out.ndim else float(out)

class LogUniform(_IntervalPrior):
    """Flat in ln x on [low, high]: p(x) = 1 / (x ln(high/low)), 0 < low < high."""

    kind = "loguniform"
    label = "log-uniform"
    minimum_low = 0.0

    def __init__(self, low, high):
        super().__init__(low, high)
        self._ln_low, self._ln_ratio = math.log(self.low), math.log(self.high / self.low)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        inside = self.contains(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(inside, -np.log(np.where(inside, x, 1.0)) - math.log(self._ln_ratio), -np.inf)
        return out if out.ndim else float(out)

    def ppf(self, u):
        u = _check_u(u)
        out = np.exp(self._ln_low + u * self._ln_ratio)
        out = np.clip(out, self.low, self.high)  # rounding at u = 0, 1
        return out if out.ndim else float(out)

class Gaussian(Prior):
    """Normal with ``mean`` and ``sigma`` > 0 on the whole real line."""

    kind = "gaussian"

    def __init__(self, mean, sigma):
        self.mean = _number(mean, "Gaussian prior: mean")
        self.sigma = _number(sigma, "Gaussian prior: sigma")
        if not self.sigma > 0:
            raise InputError(f"Gaussian prior needs sigma > 0, got sigma = {self.sigma:g}")

    @property
    def support(self):
        return (-np.inf, np.inf)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        z = (x - self.mean) / self.sigma
        out = -0.5 * z * z - math.log(self.sigma) - _LN_SQRT_2PI
        out = np.where(np.isfinite(x), out, -np.inf)
        return out if out.ndim else float(out)

    def ppf(self, u):
        u = _check_u(u)
        out = self.mean + self.sigma * special.ndtri(u)
        return out if out.ndim else float(out)

    def _args(self):
        return {"mean": self.mean, "sigma": self.sigma}


class TruncatedGaussian(Prior):
    """A normal (``mean``, ``sigma``) restricted to [low, high] and renormalised there.

    One of the bounds may be infinite (``TruncatedGaussian(0, 0.05, 0, inf)`` is a
    half-normal on x >= 0); the interval must carry probability (it may lie in a tail).
    """

    kind = "truncgauss"

    def __init__(self, mean, sigma, low=-np.inf, high=np.inf):
        self.mean = _number(mean, "truncated Gaussian prior: mean")
        self.sigma = _number(sigma, "truncated Gaussian prior: sigma")
        self.low = _number(low, "truncated Gaussian prior: low", allow_inf=True)
        self.high = _number(high, "truncated Gaussian prior: high", allow_inf=True)
        if not self.sigma > 0:
            raise InputError(f"truncated Gaussian prior needs sigma > 0, got sigma = {self.sigma:g}")
        if not self.low < self.high:
            raise InputError(f"truncated Gaussian prior needs low < high, got low = {self.low:g}, high = {self.high:g}")
        if math.isinf(self.low) and math.isinf(self.high):
            raise InputError("truncated Gaussian prior needs at least one finite bound (else use a Gaussian prior)")
        self._a = (self.low - self.mean) / self.sigma
        self._b = (self.high - self.mean) / self.sigma
        from scipy import stats  # here: scipy.stats costs ~0.5 s to import, and only this prior uses it

        self._dist = stats.truncnorm(self._a, self._b, loc=self.mean, scale=self.sigma)
        # ln of the probability the untruncated normal gives to [low, high] (stable in tails)
        a, b = (self._a, self._b) if self._a <= 0 else (-self._b, -self._a)  # mirror the upper tail
        with np.errstate(divide="ignore"):
            lb, la = float(special.log_ndtr(b)), float(special.log_ndtr(a))
            self._log_mass = lb + math.log1p(-math.exp(la - lb)) if la < lb else -math.inf
        if not math.isfinite(self._log_mass):
            raise InputError(f"truncated Gaussian prior: [{self.low:g}, {self.high:g}] carries no probability "
                             f"for mean {self.mean:g}, sigma {self.sigma:g}")

    @property
    def support(self):
        return (self.low, self.high)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        inside = self.contains(x)
        z = (np.where(inside, x, self.mean) - self.mean) / self.sigma
        out = np.where(inside, -0.5 * z * z - math.log(self.sigma) - _LN_SQRT_2PI - self._log_mass, -np.inf)
        return out if out.ndim else float(out)

    def ppf(self, u):
        u = _check_u(u)
        out = np.clip(self._dist.ppf(u), self.low, self.high)
        return out if out.ndim else float(out)

    def _args(self):
        return {"mean": self.mean, "sigma": self.sigma, "low": self.low, "high": self.high}


#: names accepted by :func:`make_prior` / :func:`parse_prior` -> (class, number of arguments)
PRIOR_KINDS: dict[str, tuple[type[Prior], tuple[int, ...]]] = {
    "uniform": (Uniform, (2,)),
    "flat": (Uniform, (2,)),
    "loguniform": (LogUniform, (2,)),
    "log-uniform": (LogUniform, (2,)),
    "log": (LogUniform, (2,)),
    "gaussian": (Gaussian, (2, 4)),  # with 4 arguments: truncated
    "normal": (Gaussian, (2, 4)),
    "gauss": (Gaussian, (2, 4)),
    "truncgauss": (TruncatedGaussian, (3, 4)),
    "truncnormal": (TruncatedGaussian, (3, 4)),
    "truncated-gaussian": (TruncatedGaussian, (3, 4)),
}

PRIOR_SYNTAX = ("NAME:uniform:LOW:HIGH, NAME:loguniform:LOW:HIGH, NAME:gaussian:MEAN:SIGMA, "
                "NAME:gaussian:MEAN:SIGMA:LOW:HIGH (truncated; 'inf'/'-inf' allowed)")


def make_prior(kind: str, *args) -> Prior:
    """A prior from its kind and arguments: ``make_prior("loguniform", 1e-4, 0.1)``."""
    key = str(kind).strip().lower().replace("_", "-")
    if key not in PRIOR_KINDS:
        raise InputError(f"unknown prior kind {kind!r}; known: uniform, loguniform, gaussian, truncgauss")
    cls, nargs = PRIOR_KINDS[key]
    if len(args) not in nargs:
        raise InputError(f"{key} prior takes {' or '.join(map(str, nargs))} numbers, got {len(args)}: "
                         f"{':'.join(_fmt(a) if isinstance(a, float) else str(a) for a in args)}")
    if cls is Gaussian and len(args) == 4:
        cls = TruncatedGaussian
    return cls(*args)


def parse_prior(spec: str) -> tuple[str, Prior]:
    """``"gX:loguniform:1e-4:0.1"`` -> ``("gX", LogUniform(0.0001, 0.1))``."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"malformed prior {spec!r}; expected {PRIOR_SYNTAX}")
    parts = [p.strip() for p in spec.split(":")]
    if len(parts) < 3 or not parts[0] or not parts[1]:
        raise InputError(f"malformed prior {spec!r}; expected {PRIOR_SYNTAX}")
    name, kind, args = parts[0], parts[1], parts[2:]
    values = []
    for a in args:
        try:
            values.append(float(a))
        except ValueError:
            raise InputError(f"malformed prior {spec!r}: {a!r} is not a number; expected {PRIOR_SYNTAX}") from None
        if math.isnan(values[-1]):
            raise InputError(f"malformed prior {spec!r}: NaN is not allowed")
    try:
        return name, make_prior(kind, *values)
    except InputError as exc:
        raise InputError(f"prior {spec!r}: {exc}") from None


class PriorSet:
    """Independent priors of several parameters, in a fixed order.

    >>> ps = PriorSet({"gX": Uniform(0, 0.1)})
    >>> ps.logpdf(np.array([[0.05], [0.2]]))    # -> [ln 10, -inf]
    """

    def __init__(self, priors: Mapping[str, Prior]):
        if not priors:
            raise InputError("a prior set needs at least one parameter")
        for name, p in priors.items():
            if not isinstance(p, Prior):
                raise InputError(f"prior of {name!r} must be a Prior (Uniform, LogUniform, Gaussian, "
                                 f"TruncatedGaussian), got {p!r}")
        self.priors = dict(priors)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.priors)

    @property
    def ndim(self) -> int:
        return len(self.priors)

    def __getitem__(self, name: str) -> Prior:
        return self.priors[name]

    def __iter__(self):
        return iter(self.priors)

    def __len__(self) -> int:
        return len(self.priors)

    def items(self):
        return self.priors.items()

    def _as_2d(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1 and self.ndim == 1 and theta.shape[0] != 1:
            theta = theta[:, None]
        theta = np.atleast_2d(theta)
        if theta.shape[-1] != self.ndim:
            raise InputError(f"expected points with {self.ndim} coordinate(s) ({', '.join(self.names)}), "
                             f"got shape {theta.shape}")
        return theta

    def logpdf(self, theta) -> np.ndarray:
        """Joint ln prior at points ``theta`` of shape (n, ndim) -> (n,)."""
        theta = self._as_2d(theta)
        out = np.zeros(theta.shape[:-1])
        for i, p in enumerate(self.priors.values()):
            out = out + p.logpdf(theta[..., i])
        return out

    def sample(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """(n, ndim) independent draws."""
        if rng is None:
            rng = np.random.default_rng()
        cols = [p.sample(n, rng) for p in self.priors.values()]
        return np.stack(cols, axis=-1) if cols else np.empty((int(n), 0))

    def ppf(self, u) -> np.ndarray:
        """Unit cube (n, ndim) -> prior space (n, ndim)."""
        u = self._as_2d(u)
        return np.stack([p.ppf(u[..., i]) for i, p in enumerate(self.priors.values())], axis=-1)

    def to_dict(self) -> dict:
        return {k: p.to_dict() for k, p in self.priors.items()}

    def __eq__(self, other) -> bool:
        return isinstance(other, PriorSet) and list(self.priors.items()) == list(other.priors.items())

    def __repr__(self) -> str:
        return "PriorSet(" + ", ".join(f"{k}={p!r}" for k, p in self.priors.items()) + ")"


def default_prior(parameter: str) -> Prior:
    """xfit's default prior of a parameter: ``gX`` -> Uniform(0, 0.1).  Other parameters
    (the planes' g_X A_XWW, ...) have no default; declare one."""
    if parameter == "gX":
        return Uniform(*DEFAULT_GX_RANGE)
    raise InputError(f"no default prior for parameter {parameter!r}; declare one, e.g. "
                     f"--prior \"{parameter}:uniform:-0.1:0.1\"")


def default_priors(parameters: Iterable[str], overrides: Mapping[str, Prior] | None = None) -> PriorSet:
    """Priors of ``parameters`` (a model's ``.parameters``, in order): the ``overrides`` where
    given, else :func:`default_prior`.  Unknown names in ``overrides`` are an error."""
    parameters = tuple(parameters)
    overrides = dict(overrides or {})
    unknown = [k for k in overrides if k not in parameters]
    if unknown:
        raise InputError(f"prior for unknown parameter(s) {unknown}; the model's parameters are: "
                         f"{', '.join(parameters)}")
    return PriorSet({p: overrides[p] if p in overrides else default_prior(p) for p in parameters})


def as_prior_set(priors, parameters: Iterable[str]) -> PriorSet:
    """Accept a :class:`PriorSet`, a mapping {name: Prior or CLI spec string}, a list of CLI
    spec strings or None (defaults) and return the priors of ``parameters`` in order."""
    parameters = tuple(parameters)
    if isinstance(priors, PriorSet):
        if set(priors.names) != set(parameters):
            raise InputError(f"priors are for {', '.join(priors.names)}; the model's parameters are: "
                             f"{', '.join(parameters)}")
        return PriorSet({p: priors[p] for p in parameters})
    overrides: dict[str, Prior] = {}
    if priors is None:
        pass
    elif isinstance(priors, Mapping):
        for k, v in priors.items():
            if isinstance(v, str):
                name, v = parse_prior(f"{k}:{v}")
            overrides[k] = v
    else:
        for spec in priors:
            name, p = parse_prior(spec)
            if name in overrides:
                raise InputError(f"prior of {name!r} given twice")
            overrides[name] = p
    return default_priors(parameters, overrides)
