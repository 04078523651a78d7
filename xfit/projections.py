"""Published sensitivity projections of counting experiments (``data/projections/*.yaml``).

Each file holds one projection: ``name``, ``experiment``, ``observable``, ``projected_limit``
(null where no published projection was found -- never invented), ``confidence_level``,
``exposure``, ``scaling`` and ``source`` (provenance).  A ``scaling`` of kind
``background_limited`` is the naive luminosity scaling of arXiv:2603.04394 Eq. (3.16): a
limit B_ref obtained with exposure L_ref against a background rate B_bkg becomes, with
exposure L,

    B(L) = sqrt(B_bkg B_ref L_ref / L)        (:func:`background_limited_limit`),

i.e. B_bkg sqrt((L_ref / L) (B_ref / B_bkg)) as printed there; a background-free search
would scale as 1 / L instead (:func:`background_free_limit`).

:func:`exposure_projection` scales a *registered* term to F times its exposure (``xfit project
counting --term T --exposure-factor F``): a Poisson term (:mod:`xfit.likelihood.counting`)
gets background b F (uncertainty sigma_b F) and single-event sensitivity SES / F, and its
median expected CLs limit with the 16/84 % band comes from the Poisson quantiles of the
background-only count; a published limit without counts scales as UL / sqrt(F)
(``background-limited``) or UL / F (``background-free``), a choice the user makes.  The
factor F is the user's: xfit types in no exposure that was not published.
"""
from __future__ import annotations

import math

import numpy as np

from .datafiles import data_root
from .errors import DataError, InputError
from .yamlio import loads_yaml

#: Directory of the projection files under data/.
DIRECTORY = "projections"
#: Keys every projection file must have.
REQUIRED = ("name", "experiment", "observable", "projected_limit", "exposure", "scaling", "source", "notes")


def background_limited_limit(reference_limit, reference_exposure, exposure, background_rate):
    """Eq. (3.16) of arXiv:2603.04394: sqrt(B_bkg B_ref L_ref / L) (vectorised in ``exposure``)."""
    L = np.asarray(exposure, dtype=float)
    if np.any(L <= 0) or reference_exposure <= 0:
        raise InputError(f"exposures must be > 0, got {exposure!r:.80} and {reference_exposure!r:.80}")
    return np.sqrt(background_rate * reference_limit * reference_exposure / L)


def background_free_limit(reference_limit, reference_exposure, exposure):
    """A background-free limit scaled with exposure: B_ref L_ref / L (vectorised)."""
    L = np.asarray(exposure, dtype=float)
    if np.any(L <= 0) or reference_exposure <= 0:
        raise InputError(f"exposures must be > 0, got {exposure!r:.80} and {reference_exposure!r:.80}")
    return reference_limit * reference_exposure / L


#: How a limit without published counts scales with the exposure factor F.
REGIMES = {"background-limited": 0.5, "background-free": 1.0}
#: Quantiles of the background-only count for the expected band: Phi(z) at z = -1, 0 (median),
#: +1 sigma (the standard normal CDF, not rounded digits).
BAND_QUANTILES = {band: 0.5 * math.erfc(-z / math.sqrt(2.0)) for band, z in (("-1", -1.0), ("0", 0.0), ("+1", 1.0))}
#: Most expected background events of a scaled Poisson term: the exact CLs sum costs time and memory
#: in proportion (1e4 events: ~2 s; 2.5e7: minutes and GBs), and such a limit is systematics-dominated.
MAX_BACKGROUND_EVENTS = 1e4


def _expected_counting_limits(term, masses, factor: float) -> dict[str, np.ndarray]:
    """Expected CLs limits of a Poisson term at F x its exposure, {band: limit per mass}."""
    from scipy import stats

    from .likelihood.counting import signal_at_limit

    b, sb = term.background * factor, term.background_sigma * factor
    ses = np.asarray(term.ses(masses), dtype=float) / factor
    out = {}
    for band, q in BAND_QUANTILES.items():
        n = int(stats.poisson.ppf(q, b)) if b > 0 else 0  # b <= MAX_BACKGROUND_EVENTS (exposure_projection)
        out[band] = signal_at_limit(term.cl, n, b, sb) * ses
    return out


def exposure_projection(term_name: str, factor, masses=None, regime: str | None = None) -> dict:
    """Expected limits of the registered term ``term_name`` with ``factor`` times its exposure
    (module docstring).  ``regime`` is required for terms without published counts."""
    from .errors import require_finite_number
    from .likelihood import available_terms, get_term

    if term_name not in available_terms():
        raise InputError(f"--term {term_name!r:.80} is not a registered likelihood term; accepted: "
                         + ", ".join(available_terms()))
    f = require_finite_number(factor, "--exposure-factor")
    if f <= 0:
        raise InputError(f"--exposure-factor must be > 0 (a multiple of the published exposure), got {factor!r:.80}")
    term = get_term(term_name)
    if not callable(getattr(term, "upper_limit", None)) or term.projection:
        raise InputError(f"--term {term_name!r:.80} has no single published limit to scale; accepted: a search term "
                         "with counts or a limit curve (see 'xfit terms', likelihood poisson/half-gaussian)")
    lo, hi = term.mass_range
    try:
        m = np.asarray(masses if masses is not None else np.linspace(lo, min(hi, 10.0), 21), dtype=float)
    except (TypeError, ValueError):
        m = np.array([np.nan])
    if m.ndim != 1 or m.size == 0 or not np.all(np.isfinite(m)) or np.any(m < 0):
        raise InputError(f"--mX must be finite masses >= 0 in GeV, got {masses!r:.80}")
    counting = getattr(term, "likelihood", "") == "poisson"
    if counting:
        if regime is not None:
            raise InputError(f"--regime is not used for --term {term_name} "
                             "(a Poisson term: its counts fix the scaling)")
        if term.background * f > MAX_BACKGROUND_EVENTS:
            raise InputError(f"--exposure-factor {f:g} gives {term.background * f:.3g} background events in "
                             f"{term_name}; "
                             f"accepted: F <= {MAX_BACKGROUND_EVENTS / term.background:.4g} "
                             f"(at most {MAX_BACKGROUND_EVENTS:g} background events)")
        with np.errstate(over="ignore"):  # an overflow is refused below
            bands = _expected_counting_limits(term, m, f)
        now = term.upper_limit(m)
    else:
        if regime not in REGIMES:
            raise InputError(f"--regime is needed for --term {term_name} (no published counts), got {regime!r:.80}; "
                             f"accepted: {', '.join(REGIMES)}")
        now = term.upper_limit(m)
        with np.errstate(over="ignore"):
            bands = {"0": now / f ** REGIMES[regime]}
    inside = (lo <= m) & (m <= hi) & np.isfinite(now)
    if not all(np.isfinite(v[inside]).all() for v in bands.values()):
        raise InputError(f"--exposure-factor {factor!s:.80} is too small: the expected limit is not a finite "
                         "number; accepted: a larger factor")
    rows = []
    for i, mx in enumerate(m):
        ok = lo <= mx <= hi and np.isfinite(now[i])
        row = {"mX": float(mx), "published_limit": float(now[i]) if ok else None,
               "expected_limit": float(bands["0"][i]) if ok else None}
        if counting:
            row["expected_band"] = {k: float(v[i]) if ok else None for k, v in bands.items() if k != "0"}
        rows.append(row)
    return {"term": term.name, "likelihood": term.likelihood, "exposure_factor": f,
            "regime": "poisson counts" if counting else regime, "confidence_level": term.cl,
            "observable": f"{term.observables[0]} x BR(X->invisible)", "citation": str(term.citation),
            "limits": rows}


def _limit_of(term_file: str, where: str) -> float:
    """The single published upper limit of ``data/limits/<term_file>.yaml`` (a number written once)."""
    node = data_root().joinpath("limits").joinpath(f"{term_file}.yaml")
    try:
        d = loads_yaml(node.read_text(encoding="utf-8"), source=node.name)
        value = d["limits"][0]["upper_limit"]
    except (OSError, KeyError, IndexError, TypeError):
        raise DataError(f"{where}: limit_of {term_file!r} names no data/limits file with one upper_limit") from None
    return float(value)


def _resolve(d: dict, name: str) -> dict:
    """Replace ``{limit_of: TERM}`` by the published limit of that term's data file."""
    where = f"data/projections/{name}"
    if isinstance(d.get("projected_limit"), dict):
        d["projected_limit"] = _limit_of(d["projected_limit"].get("limit_of"), f"{where}: projected_limit")
    s = d.get("scaling")
    if isinstance(s, dict) and isinstance(s.get("reference_limit"), dict):
        s["reference_limit"] = _limit_of(s["reference_limit"].get("limit_of"), f"{where}: scaling.reference_limit")
    return d


def _check(d, name: str) -> dict:
    if not isinstance(d, dict):
        raise DataError(f"data/projections/{name}: not a mapping")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise DataError(f"data/projections/{name}: missing key(s) {', '.join(missing)}")
    lim = d["projected_limit"]
    if lim is not None and (isinstance(lim, bool) or not isinstance(lim, (int, float)) or not lim > 0):
        raise DataError(f"data/projections/{name}: projected_limit must be > 0 or null, got {str(lim)[:80]!r}")
    return d


def load_projections() -> dict[str, dict]:
    """All projection files, keyed by their ``name``."""
    root = data_root().joinpath(DIRECTORY)
    out = {}
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".yaml"):
            raw = loads_yaml(node.read_text(encoding="utf-8"), source=node.name)
            d = _check(_resolve(raw, node.name) if isinstance(raw, dict) else raw, node.name)
            out[d["name"]] = d
    if not out:
        raise DataError("no projection files found in data/projections")
    return out


def scaled_limit(entry: dict) -> float | None:
    """The limit recomputed from the entry's ``scaling`` (None if it has none)."""
    s = entry.get("scaling") or {}
    if s.get("kind") == "background_limited":
        return float(background_limited_limit(s["reference_limit"], s["reference_exposure"], s["exposure"],
                                               s["background_rate"]))
    if s.get("kind") == "background_free":
        return float(background_free_limit(s["reference_limit"], s["reference_exposure"], s["exposure"]))
    return None


def summary() -> list[dict]:
    """One row per projection (``xfit project counting --json``)."""
    rows = []
    for name, d in load_projections().items():
        sl = scaled_limit(d)
        rows.append({
            "name": name, "experiment": d["experiment"], "observable": d["observable"],
            "projected_limit": d["projected_limit"], "confidence_level": d.get("confidence_level"),
            "exposure": d["exposure"], "scaling_estimate": None if sl is None or not math.isfinite(sl) else sl,
            "source": d["source"].get("publication") if isinstance(d["source"], dict) else d["source"],
            "status": "published projection" if d["projected_limit"] is not None
            else "not found (see notes)", "notes": " ".join(str(d["notes"]).split()),
        })
    return rows
