"""HEPData submissions of xfit's limit curves, built with ``hepdata_lib`` and checked with
``hepdata-validator`` (optional extra: ``pip install "xfit[hepdata]"``).

A :class:`LimitCurve` is one table: an upper limit versus m_X, observed and (where they exist)
the expected median with its ±1σ/±2σ band, at one confidence level, with the inputs it was
computed from.  :func:`write_limits_submission` writes ``submission.yaml`` plus one YAML file
per table into a folder, and the same files as ``<folder>.tar.gz`` beside it, ready to upload, each table with
axes and units, the CL as a qualifier, keywords, and the references of its inputs
(arXiv identifiers become INSPIRE search links).

Masses without a limit (the search does not apply, no sensitivity) are left out of a table,
and the table's description says how many; HEPData has no "no value" entry for a limit.
"""
from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

#: Keys of the expected-limit band (N sigma; "0" is the median).
BAND_KEYS = ("-2", "-1", "0", "1", "2")


@dataclass
class LimitCurve:
    """One HEPData table: upper limits on ``quantity`` versus m_X [GeV]."""

    name: str
    description: str
    mX: Sequence[float]
    observed: Sequence[float | None]
    quantity: str                      # e.g. "g_X" or "B(B+ -> K+ X) x B(X -> invisible)"
    cl: float
    units: str = ""
    expected: dict[str, Sequence[float | None]] = field(default_factory=dict)  # BAND_KEYS -> values
    reactions: list[str] = field(default_factory=list)
    observables: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # arXiv identifiers of the inputs

    def rows(self) -> np.ndarray:
        """Indices of the masses that have a finite observed limit (and finite bands, if any)."""
        def finite(values) -> np.ndarray:
            return np.array([v is not None and math.isfinite(float(v)) for v in values], dtype=bool)

        ok = finite(self.observed)
        for key in BAND_KEYS if self.expected else ():
            ok &= finite(self.expected[key])
        return np.flatnonzero(ok)

    def check(self) -> None:
        n = len(self.mX)
        if not self.name or len(self.name) > 64 or any(c in self.name for c in "/\\"):
            raise InputError(f"a HEPData table needs a name of 1-64 characters without / or \\ "
                             f"(it names a file), got {self.name!r}")
        if len(self.observed) != n:
            raise InputError(f"table {self.name!r}: {len(self.observed)} observed limits for {n} masses")
        if self.expected and set(self.expected) != set(BAND_KEYS):
            raise InputError(f"table {self.name!r}: expected limits need the keys {', '.join(BAND_KEYS)}, "
                             f"got {sorted(self.expected)}")
        if any(len(v) != n for v in self.expected.values()):
            raise InputError(f"table {self.name!r}: every expected band needs {n} values")
        if not 0.0 < self.cl < 1.0:
            raise InputError(f"table {self.name!r}: the confidence level must be in (0, 1), got {self.cl}")


def inspire_link(arxiv: str) -> str:
    """The INSPIRE search page of an arXiv identifier."""
    return f"https://inspirehep.net/literature?q=arxiv:{arxiv}"


def _table(curve: LimitCurve):
    from hepdata_lib import Table, Uncertainty, Variable

    curve.check()
    rows = curve.rows()
    dropped = len(curve.mX) - len(rows)
    table = Table(curve.name)
    cl = f"{100 * curve.cl:g}%"
    missing = f" {dropped} of {len(curve.mX)} masses have no limit and are not listed." if dropped else ""
    table.description = f"{curve.description} Upper limits at {cl} CL versus m_X.{missing}"
    table.keywords["observables"] = curve.observables or ["UL"]
    if curve.reactions:
        table.keywords["reactions"] = curve.reactions
    table.keywords["phrases"] = ["Missing energy", "Light vector boson", "Upper limit", *curve.phrases]
    mass = Variable("$m_X$", is_independent=True, is_binned=False, units="GeV")
    mass.values = [float(curve.mX[i]) for i in rows]
    table.add_variable(mass)
    obs = Variable(f"Observed upper limit on {curve.quantity}", is_independent=False, is_binned=False,
                   units=curve.units)
    obs.values = [float(curve.observed[i]) for i in rows]
    obs.add_qualifier("CL", cl)
    table.add_variable(obs)
    if curve.expected:
        exp = Variable(f"Expected upper limit on {curve.quantity}", is_independent=False, is_binned=False,
                       units=curve.units)
        med = np.array([float(curve.expected["0"][i]) for i in rows])
        exp.values = med.tolist()
        exp.add_qualifier("CL", cl)
        for n in ("1", "2"):
            band = Uncertainty(f"{n} sigma", is_symmetric=False)
            lo = np.array([float(curve.expected[f"-{n}"][i]) for i in rows])
            hi = np.array([float(curve.expected[n][i]) for i in rows])
            band.values = list(zip((lo - med).tolist(), (hi - med).tolist()))
            exp.add_uncertainty(band)
        table.add_variable(exp)
    return table


def write_limits_submission(out_dir: str | Path, curves: Sequence[LimitCurve], comment: str,
                            references: Sequence[str] = ()) -> Path:
    """Write a HEPData submission of ``curves`` into ``out_dir``; return ``out_dir/submission.yaml``.

    ``references``: arXiv identifiers of every input (linked as INSPIRE searches).  The files
    are validated by hepdata-validator (an :class:`InputError` lists its complaints).
    """
    try:
        from hepdata_lib import Submission
    except ImportError:
        raise InputError("--hepdata needs the optional packages hepdata_lib and hepdata-validator: "
                         "pip install 'xfit[hepdata]'") from None
    if not curves:
        raise InputError("--hepdata: there is no limit curve to write")
    out = Path(out_dir).resolve()  # absolute: the files are written from a scratch directory
    if out.exists() and not out.is_dir():
        raise InputError(f"--hepdata {str(out)[:80]!r} is a file; give a directory")
    sub = Submission()
    sub.comment = comment
    seen = set()
    for arxiv in [*references, *(r for c in curves for r in c.references)]:
        if arxiv and arxiv not in seen:
            seen.add(arxiv)
            sub.add_link(f"arXiv:{arxiv} (INSPIRE)", inspire_link(arxiv))
    names = [c.name for c in curves]
    if len(set(names)) != len(names):
        raise InputError(f"--hepdata: table names must be unique, got {names}")
    for c in curves:
        sub.add_table(_table(c))
    try:
        # hepdata_lib writes its tarball into the working directory: work in a scratch folder
        with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
            sub.create_files(str(out.resolve()), validate=False, remove_old=True)
            shutil.move(Path(scratch) / "submission.tar.gz", out.parent / f"{out.name}.tar.gz")
    except OSError as exc:
        raise InputError(f"--hepdata {str(out)[:80]!r} cannot be written ({exc.strerror})") from None
    errors = validation_errors(out)
    if errors:
        raise InputError("the HEPData submission does not validate: " + "; ".join(errors[:3]))
    return out / "submission.yaml"


def validation_errors(directory: str | Path) -> list[str]:
    """hepdata-validator's complaints about the submission in ``directory`` (empty if valid)."""
    from hepdata_validator.full_submission_validator import FullSubmissionValidator

    v = FullSubmissionValidator()
    ok = v.validate(directory=str(directory))
    if ok:
        return []
    return [f"{Path(f).name}: {m.message}" for f, msgs in v.get_messages().items() for m in msgs]
