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


def _shape_of(predictions: Mapping[str, object]) -> tuple[int, ...]:
    return np.shape(np.asarray(predictions["mX"], dtype=float))


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
        total = 0.0
        for t in self._terms:
            total = total + t.chi2(predictions)
        return total

    def chi2_by_term(self, predictions: Mapping[str, object]) -> dict[str, np.ndarray]:
        return {t.name: t.chi2(predictions) for t in self._terms}

    def __repr__(self) -> str:
        return "CombinedLikelihood(" + " + ".join(self.names) + ")"
