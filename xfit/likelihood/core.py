"""The likelihood protocol: one small interface every measurement speaks.

A :class:`LikelihoodTerm` is one measurement or search.  It has a ``name``, a
:class:`Citation`, the prediction keys it needs (``observables``), the m_X range where it
applies, and ``chi2(predictions)``: -2 ln L (up to a parameter-independent constant) as a
vectorised function of a mapping of predictions (arrays of one common shape; the key
``"mX"`` always holds m_X in GeV).  Outside its mass range a term contributes 0.

Terms add like iminuit cost functions: ``a + b`` is a :class:`CombinedLikelihood`.
"""
from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, finite_array


@dataclass(frozen=True)
class Citation:
    """Where a measurement comes from, so that a run can print its bibliography."""

    bibtex_key: str
    arxiv: str | None = None
    journal: str | None = None
    hepdata: str | None = None
    note: str = ""
    #: False where the INSPIRE BibTeX key could not be checked (the data file says why)
    bibtex_key_verified: bool = True

    def __str__(self) -> str:
        parts = [self.bibtex_key]
        if self.arxiv and self.bibtex_key != f"arXiv:{self.arxiv}":
            parts.append(f"arXiv:{self.arxiv}")
        if self.journal:
            parts.append(self.journal)
        if self.hepdata:
            parts.append(f"HEPData {self.hepdata}")
        return ", ".join(parts)


def _masses(predictions: Mapping[str, object]) -> np.ndarray:
    """``predictions["mX"]`` validated (finite, >= 0 GeV): it sets the shape of chi2."""
    return finite_array(predictions["mX"], "m_X (GeV)", 0.0)


def _values(v, shape: tuple[int, ...]) -> np.ndarray:
    """A prediction as a float (or complex) array of ``shape``, without copying a float array."""
    if not (isinstance(v, np.ndarray) and v.dtype == np.float64):
        v = np.asarray(v, dtype=complex if np.iscomplexobj(v) else float)
    return v if v.shape == shape else np.broadcast_to(v, shape)


class LikelihoodBase(abc.ABC):
    """What terms and sums of terms have in common: chi2, observables, addition."""

    @property
    @abc.abstractmethod
    def terms(self) -> tuple[LikelihoodTerm, ...]: ...

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

    def __add__(self, other: LikelihoodBase) -> CombinedLikelihood:
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
    #: how the measurement enters: "half-gaussian", "poisson", "gaussian", "published", ...
    likelihood: str = ""
    #: a future-experiment projection, not a measurement (fits of data leave it out)
    projection: bool = False
    #: chi2 at fixed m_X depends on the predictions only through the product of
    #: ``observables`` (a rate B) and is not homogeneous in it (e.g. a profiled likelihood):
    #: limits skip the closed-form test and find the limit once in B (xfit.inference.limits)
    rate_profile: bool = False
    #: each evaluation runs fits (milliseconds or more per point): limits take the term as slow
    #: (one mass at a time, warm-started, on the executor) without timing it first
    slow: bool = False
    #: legend label (matplotlib mathtext) and colour for plots
    label: str = ""
    colour: str = ""

    @property
    def terms(self) -> tuple[LikelihoodTerm, ...]:
        return (self,)

    @abc.abstractmethod
    def _chi2(self, predictions: Mapping[str, np.ndarray]) -> np.ndarray:
        """-2 ln L for predictions already restricted to the term's mass range."""

    def applies(self, mX) -> np.ndarray:
        m = np.asarray(mX, dtype=float)
        lo, hi = self.mass_range
        return (m >= lo) & (m <= hi)

    def chi2(self, predictions: Mapping[str, object]) -> np.ndarray:
        return self._chi2_checked(predictions, None)

    def _chi2_checked(self, predictions: Mapping[str, object], mX: np.ndarray | None) -> np.ndarray:
        """chi2; ``mX``: ``predictions["mX"]`` already validated (by a sum of terms), or None."""
        missing = [o for o in ("mX", *self.observables) if o not in predictions]
        if missing:
            raise InputError(
                f"likelihood term {self.name!r} needs prediction(s) {missing}; "
                f"got {sorted(predictions)}"
            )
        if mX is None:
            mX = _masses(predictions)
        shape = mX.shape
        mask = self.applies(mX)
        if mask.shape != shape:
            mask = np.broadcast_to(mask, shape)
        out = np.zeros(shape)
        everywhere = bool(mask.all())  # the common case (every point in range): no masked copies
        if not everywhere and not mask.any():
            return out if shape else float(out)
        # _chi2 sees 1-d arrays of the points in range (views where nothing needs to be dropped)
        sub = {k: _values(predictions[k], shape).reshape(-1) if everywhere else _values(predictions[k], shape)[mask]
               for k in ("mX", *self.observables)}
        bad = [k for k, v in sub.items() if k != "mX" and not np.isfinite(v).all()]  # m_X: checked above
        if bad:
            raise InputError(f"likelihood term {self.name!r}: prediction(s) {bad} are not finite")
        if everywhere:
            out.reshape(-1)[:] = self._chi2(sub)
        else:
            out[mask] = self._chi2(sub)
        return out if shape else float(out)

    def __repr__(self) -> str:
        lo, hi = self.mass_range
        return (f"<{type(self).__name__} {self.name!r}: {', '.join(self.observables)}; "
                f"mX in [{lo:g}, {hi:g}] GeV; {self.citation.bibtex_key}>")


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
        mX = _masses(predictions) if "mX" in predictions else None  # validated once for all terms
        total = 0.0
        for t in self._terms:
            total = total + t._chi2_checked(predictions, mX)
        return total

    def chi2_by_term(self, predictions: Mapping[str, object]) -> dict[str, np.ndarray]:
        return {t.name: t.chi2(predictions) for t in self._terms}

    def __repr__(self) -> str:
        return "CombinedLikelihood(" + " + ".join(self.names) + ")"
