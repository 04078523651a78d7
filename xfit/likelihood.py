"""The likelihood protocol: one small interface every measurement speaks.

A :class:`LikelihoodTerm` is one measurement or search.  It has a ``name``, a
:class:`Citation`, the prediction keys it needs (``observables``), the m_X range where it
applies, and ``chi2(predictions)``: -2 ln L (up to a parameter-independent constant) as a
vectorised function of a mapping of predictions (arrays of one common shape; the key
``"mX"`` always holds m_X in GeV).  Outside its mass range a term contributes 0.

Terms add like iminuit cost functions: ``a + b`` is a :class:`CombinedLikelihood`.
Terms are registered by name (flavio style) and built with :func:`get_term`.

Limits become likelihood terms by one convention, the same for every limit
(:class:`UpperLimitTerm`): a half-Gaussian in the constrained rate x >= 0 with mean 0 and
width sigma = x_UL / Phi^-1(CL), i.e. chi2 = (x / sigma)^2.  At the published limit
chi2 = [Phi^-1(CL)]^2, so the one-sided p-value of x_UL is exactly 1 - CL
(chi2 = 1.642 at a 90 % CL limit, 2.706 at a 95 % CL limit).
"""
from __future__ import annotations

import abc
import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Callable, Iterable, Mapping

import numpy as np
from scipy import stats

from .errors import DataError, InputError, finite_array


@dataclass(frozen=True)
class Citation:
    """Where a measurement comes from, so that a run can print its bibliography."""

    bibtex_key: str
    arxiv: str | None = None
    journal: str | None = None
    hepdata: str | None = None
    note: str = ""

    def __str__(self) -> str:
        parts = [self.bibtex_key]
        if self.arxiv:
            parts.append(f"arXiv:{self.arxiv}")
        if self.journal:
            parts.append(self.journal)
        if self.hepdata:
            parts.append(f"HEPData {self.hepdata}")
        return ", ".join(parts)


def _shape_of(predictions: Mapping[str, object]) -> tuple[int, ...]:
    return np.shape(np.asarray(predictions["mX"], dtype=float))


class LikelihoodBase(abc.ABC):
    """What terms and sums of terms have in common: chi2, observables, addition."""

    @property
    @abc.abstractmethod
    def terms(self) -> tuple["LikelihoodTerm", ...]: ...

    @property
    def observables(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for t in self.terms:
            for o in t.observables:
                seen.setdefault(o, None)
        return tuple(seen)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.terms)

    def citations(self) -> list[Citation]:
        return [t.citation for t in self.terms]

    def bibliography(self) -> str:
        return "\n".join(f"[{t.name}] {t.citation}" for t in self.terms)

    def __add__(self, other: "LikelihoodBase") -> "CombinedLikelihood":
        if not isinstance(other, LikelihoodBase):
            return NotImplemented
        return CombinedLikelihood(self.terms + other.terms)

    def __radd__(self, other):
        if other == 0:  # so that sum([a, b, c]) works
            return CombinedLikelihood(self.terms)
        return NotImplemented

    @abc.abstractmethod
    def chi2(self, predictions: Mapping[str, object]) -> np.ndarray: ...

    def __call__(self, predictions: Mapping[str, object]) -> np.ndarray:
        return self.chi2(predictions)


class LikelihoodTerm(LikelihoodBase):
    """One measurement or search.  Subclasses set the class attributes and ``_chi2``."""

    name: str = ""
    citation: Citation = Citation("unknown")
    observables: tuple[str, ...] = ()
    #: (lowest, highest) m_X in GeV where the term applies; outside it contributes 0.
    mass_range: tuple[float, float] = (0.0, np.inf)
    description: str = ""
    #: names of terms built from some of the same data: adding both double counts it
    shares_data_with: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple["LikelihoodTerm", ...]:
        return (self,)

    @abc.abstractmethod
    def _chi2(self, predictions: Mapping[str, np.ndarray]) -> np.ndarray:
        """-2 ln L for predictions already restricted to the term's mass range."""

    def applies(self, mX) -> np.ndarray:
        m = np.asarray(mX, dtype=float)
        lo, hi = self.mass_range
        return (m >= lo) & (m <= hi)

    def chi2(self, predictions: Mapping[str, object]) -> np.ndarray:
        missing = [o for o in ("mX",) + tuple(self.observables) if o not in predictions]
        if missing:
            raise InputError(
                f"likelihood term {self.name!r} needs prediction(s) {missing}; "
                f"got {sorted(predictions)}"
            )
        shape = _shape_of(predictions)
        mask = np.broadcast_to(self.applies(finite_array(predictions["mX"], "m_X (GeV)", 0.0)), shape)
        out = np.zeros(shape)
        if not mask.any():
            return out if shape else float(out)
        sub = {
            k: np.broadcast_to(np.asarray(v, dtype=complex if np.iscomplexobj(v) else float), shape)[mask]
            for k, v in predictions.items()
            if k in self.observables or k == "mX"
        }
        bad = [k for k, v in sub.items() if not np.all(np.isfinite(v))]
        if bad:
            raise InputError(f"likelihood term {self.name!r}: prediction(s) {bad} are not finite")
        out[mask] = self._chi2(sub)
        return out if shape else float(out)

    def __repr__(self) -> str:
        lo, hi = self.mass_range
        return f"<{type(self).__name__} {self.name!r}: {', '.join(self.observables)}; mX in [{lo:g}, {hi:g}] GeV; {self.citation.bibtex_key}>"


class CombinedLikelihood(LikelihoodBase):
    """A sum of terms; its observables are the union of theirs.

    Terms that declare they share data (``shares_data_with``) are refused together, since
    the sum would count the same measurement twice; ``allow_overlap=True`` overrides.
    """

    def __init__(self, terms: Iterable[LikelihoodTerm], allow_overlap: bool = False):
        terms = tuple(terms)
        names = [t.name for t in terms]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise InputError(f"likelihood term(s) {sorted(dup)} added twice")
        if not allow_overlap:
            for t in terms:
                clash = sorted(set(t.shares_data_with) & set(names))
                if clash:
                    raise InputError(
                        f"likelihood terms {t.name!r} and {clash[0]!r} use some of the same data "
                        "(adding them double counts it); use one of them, or allow_overlap=True")
        self._terms = terms

    @property
    def terms(self) -> tuple[LikelihoodTerm, ...]:
        return self._terms

    def chi2(self, predictions: Mapping[str, object]) -> np.ndarray:
        total = 0.0
        for t in self._terms:
            total = total + t.chi2(predictions)
        return total

    def chi2_by_term(self, predictions: Mapping[str, object]) -> dict[str, np.ndarray]:
        return {t.name: t.chi2(predictions) for t in self._terms}

    def __repr__(self) -> str:
        return "CombinedLikelihood(" + " + ".join(self.names) + ")"


# --- generic terms -------------------------------------------------------------------------

def missing_energy_rate(predictions: Mapping[str, np.ndarray], production_key: str) -> np.ndarray:
    """Rate of a missing-energy signature: B(production) x B(X -> invisible)."""
    return np.asarray(predictions[production_key]) * np.asarray(predictions["BR(X->invisible)"])


@lru_cache(maxsize=64)
def _one_sided_z(cl: float) -> float:
    """Phi^-1(CL), checked and computed once per confidence level (chi2 is a hot loop)."""
    if not 0.5 < cl < 1.0:
        raise InputError(f"confidence level must be in (0.5, 1), got {cl}")
    return float(stats.norm.ppf(cl))


def half_gaussian_sigma(upper_limit, cl: float):
    """Width of the limit convention: sigma = x_UL / Phi^-1(CL) (see module docstring)."""
    return np.asarray(upper_limit, dtype=float) / _one_sided_z(float(cl))


def chi2_threshold_one_sided(cl: float) -> float:
    """Delta chi2 at which the half-Gaussian convention reaches confidence level ``cl``."""
    return _one_sided_z(float(cl)) ** 2


class GaussianTerm(LikelihoodTerm):
    """chi2 = ((f(predictions) - mean) / sigma)^2 for a measured quantity."""

    def __init__(self, name: str, citation: Citation, observables: tuple[str, ...],
                 quantity: Callable[[Mapping[str, np.ndarray]], np.ndarray],
                 mean: float, sigma: float, mass_range=(0.0, np.inf), description: str = ""):
        self.name, self.citation, self.observables = name, citation, tuple(observables)
        self.quantity, self.mean, self.sigma = quantity, float(mean), float(sigma)
        self.mass_range, self.description = tuple(mass_range), description

    def _chi2(self, predictions):
        return ((self.quantity(predictions) - self.mean) / self.sigma) ** 2


class UpperLimitTerm(LikelihoodTerm):
    """A published upper limit x < x_UL(m_X) at confidence level ``cl``, as a half-Gaussian.

    ``quantity(predictions)`` gives the constrained rate; ``upper_limit(mX)`` the published
    limit at each mass (NaN or inf where there is none: such masses contribute 0).
    """

    def __init__(self, name: str, citation: Citation, observables: tuple[str, ...],
                 quantity: Callable[[Mapping[str, np.ndarray]], np.ndarray],
                 upper_limit: Callable[[np.ndarray], np.ndarray] | float, cl: float,
                 mass_range=(0.0, np.inf), description: str = ""):
        self.name, self.citation, self.observables = name, citation, tuple(observables)
        self.quantity, self.cl = quantity, float(cl)
        self._upper_limit = upper_limit
        self.mass_range, self.description = tuple(mass_range), description
        half_gaussian_sigma(1.0, self.cl)  # validates cl

    def upper_limit(self, mX) -> np.ndarray:
        if callable(self._upper_limit):
            return np.asarray(self._upper_limit(np.asarray(mX, dtype=float)), dtype=float)
        return np.full(np.shape(mX), float(self._upper_limit))

    def _chi2(self, predictions):
        ul = self.upper_limit(predictions["mX"])
        sigma = half_gaussian_sigma(ul, self.cl)
        x = self.quantity(predictions)
        if np.any(x < 0):
            raise InputError(f"likelihood term {self.name!r}: the constrained rate must be >= 0, got {np.min(x):g}")
        ok = np.isfinite(sigma) & (sigma > 0)
        return np.where(ok, (x / np.where(ok, sigma, 1.0)) ** 2, 0.0)


class MissingEnergyLimit(UpperLimitTerm):
    """A published limit on a missing-energy rate: B(production) x B(X -> invisible) < UL.

    ``production_key`` is the prediction key of the production rate (e.g. "BR(K+->pi+X)");
    the limit convention is that of :class:`UpperLimitTerm`.
    """

    def __init__(self, name: str, citation: Citation, production_key: str,
                 upper_limit: Callable[[np.ndarray], np.ndarray] | float, cl: float,
                 mass_range=(0.0, np.inf), description: str = ""):
        super().__init__(name, citation, (production_key, "BR(X->invisible)"),
                         quantity=partial(missing_energy_rate, production_key=production_key),
                         upper_limit=upper_limit, cl=cl, mass_range=mass_range, description=description)
        self.production_key = production_key


class DataFileLimit(MissingEnergyLimit):
    """A published limit read from a data file with one ``limits`` entry: a single number
    (applied over the file's ``mass_range_GeV``, or the ``mass_range`` option) or a curve
    versus m_X (see :class:`xfit.datafiles.LimitCurve`; applied where the curve has points).
    Subclasses set ``name``, ``citation`` and ``data_file``."""

    data_file: str = ""

    def __init__(self, description: str = "", exclude_segments=(), mass_range=None,
                 upper_limit: float | None = None):
        from .datafiles import LimitCurve, limit_of, load_data_file, mass_range_option

        d = load_data_file(self.data_file)
        (entry,) = d["limits"]
        self.data = d
        if "curve" in entry:
            self.curve = LimitCurve.from_entry(entry, name=self.name, exclude_segments=exclude_segments)
            ul, default_range = self.curve, self.curve.mass_range
        else:
            ul, default_range = limit_of(entry), d["mass_range_GeV"]
        if upper_limit is not None:  # an alternative number documented in the same file
            ul = float(upper_limit)
        super().__init__(self.name, self.citation, entry["observable"], upper_limit=ul,
                         cl=d["confidence_level"],
                         mass_range=mass_range_option(mass_range, default_range, self.name),
                         description=description)


class MultiChannelLimits(LikelihoodTerm):
    """Several channel limits of one publication, summed (e.g. Belle B -> pi/rho E_miss).

    Built from a data file whose ``limits`` entries each give an ``observable`` (production
    key), an ``upper_limit`` and an ``endpoint`` [parent, daughter] (the channel applies for
    m_X below m_parent - m_daughter).  Subclasses set ``name``, ``citation``, ``description``.
    """

    def __init__(self, data: Mapping):
        from .datafiles import limit_of
        from .physics.meson_decays import get_channel, threshold

        channels = []
        for entry in data["limits"]:
            key = entry["observable"]
            try:
                channel = get_channel(key)
            except InputError as exc:
                raise DataError(f"{self.name}: data file entry {exc}") from None
            if tuple(entry.get("endpoint") or (channel.parent, channel.daughter)) != (channel.parent, channel.daughter):
                raise DataError(f"{self.name}: {key} has endpoint {entry['endpoint']}, but the channel is "
                                f"{channel.parent} -> {channel.daughter}")
            endpoint = threshold(channel)
            channels.append(MissingEnergyLimit(
                f"{self.name}[{key}]", self.citation, key, upper_limit=limit_of(entry),
                cl=data["confidence_level"], mass_range=(0.0, endpoint),
                description=f"{key} x BR(X->invisible) < {entry['upper_limit']:.3g} (m_X < {endpoint:.4f} GeV)"))
        self.channels = tuple(channels)
        self.cl = float(data["confidence_level"])
        self.observables = tuple(t.production_key for t in self.channels) + ("BR(X->invisible)",)
        self.mass_range = (0.0, max(t.mass_range[1] for t in self.channels))

    def upper_limits(self) -> dict[str, float]:
        """The limit of each channel, by prediction key."""
        return {t.production_key: float(t.upper_limit(0.0)) for t in self.channels}

    def chi2_by_channel(self, predictions) -> dict[str, np.ndarray]:
        return {t.production_key: t.chi2(predictions) for t in self.channels}

    def _chi2(self, predictions):
        return sum(t.chi2(predictions) for t in self.channels)


# --- registry ------------------------------------------------------------------------------

_REGISTRY: dict[str, Callable[..., LikelihoodTerm]] = {}


def register_term(name: str):
    """Decorator: register a factory (class or function returning a term) under ``name``."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


def _load_likelihood_modules() -> None:
    from . import likelihoods as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")


def available_terms() -> list[str]:
    _load_likelihood_modules()
    return sorted(_REGISTRY)


def get_term(name: str, **options) -> LikelihoodTerm:
    """Build the registered term ``name`` (e.g. ``"l3_z_gamma"``)."""
    _load_likelihood_modules()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise InputError(
            f"unknown likelihood term {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None
    try:
        return factory(**options)
    except TypeError as exc:
        if "argument" not in str(exc):
            raise
        raise InputError(f"likelihood term {name!r}: {exc}") from None


def build_likelihood(names: Iterable[str] | str, allow_overlap: bool = False, **options) -> CombinedLikelihood:
    """``build_likelihood("b_to_s_emiss,l3_z_gamma")`` -> the sum of those terms.

    ``options`` maps a term name to the keyword arguments of its factory.
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    if not names:
        raise InputError("no likelihood terms given; known: " + ", ".join(available_terms()))
    stray = sorted(set(options) - set(names))
    if stray:
        raise InputError(f"options given for term(s) {stray} that are not being built; building: {', '.join(names)}")
    return CombinedLikelihood((get_term(n, **options.get(n, {})) for n in names), allow_overlap=allow_overlap)
