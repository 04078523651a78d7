"""The parameter layout of a workspace model, read once from ``pyhf.Model.config``.

:class:`Layout` holds what :class:`~xfit.histfactory.HistFactoryModel` takes from pyhf: channel
order and bins, parameter order and slices, initial values, bounds, fixed flags, POI, one label
per component, the auxiliary data in pyhf's ``auxdata_order`` and each constraint's type and
widths (Gaussian ``sigmas``) or factors (Poisson ``tau``).  It is plain data (lists, floats,
strings), so it round-trips exactly through JSON (:meth:`Layout.to_json`,
:meth:`Layout.from_json`); :mod:`.layout_cache` stores it on disk.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class ConstraintTerm:
    """The constraint of one constrained parameter (one entry of pyhf's ``auxdata_order``).

    ``pdf_type``: ``"normal"`` or ``"poisson"``; ``values``: the Gaussian widths (``None``: all 1)
    or the Poisson factors tau, one per component; ``widths``: pyhf's pre-fit widths
    (``param_set.width()``: the Gaussian widths, or 1/sqrt(tau)); ``modifier``: the type of the
    modifier that declares the parameter (normsys, histosys, staterror, shapesys, lumi).
    """

    name: str
    pdf_type: str
    values: list[float] | None
    widths: list[float]
    modifier: str


@dataclass(frozen=True)
class Layout:
    """The pyhf layout of one (workspace, measurement, POI) model; see the module docstring."""

    channels: list[str]
    channel_nbins: dict[str, int]
    par_order: list[str]
    par_slices: dict[str, tuple[int, int]]  # name -> (start, stop)
    npars: int
    init: list[float]
    bounds: list[tuple[float, float]]
    fixed: list[bool]
    poi_name: str | None
    poi_index: int | None
    par_names: list[str]
    auxdata: list[float]
    constraint_terms: list[ConstraintTerm]

    @classmethod
    def from_pyhf_config(cls, cfg) -> Layout:
        """The layout of a ``pyhf.Model.config`` (numbers become Python floats, exactly)."""
        terms = []
        types: dict[str, str] = {}
        for name, mtype in cfg.modifiers:
            types.setdefault(name, mtype)
        for name in cfg.auxdata_order:
            ps = cfg.param_set(name)
            if ps.pdf_type == "normal":
                sig = getattr(ps, "sigmas", None)
                values = None if sig is None else [float(v) for v in sig]
            else:
                values = [float(v) for v in ps.factors] if ps.pdf_type == "poisson" else None
            terms.append(ConstraintTerm(str(name), str(ps.pdf_type), values, [float(w) for w in ps.width()],
                                        str(types.get(name, "?"))))
        slices = {}
        for n in cfg.par_order:
            sl = cfg.par_slice(n)
            slices[str(n)] = (int(sl.start), int(sl.stop))
        return cls(
            channels=[str(c) for c in cfg.channels],
            channel_nbins={str(c): int(n) for c, n in cfg.channel_nbins.items()},
            par_order=[str(n) for n in cfg.par_order],
            par_slices=slices,
            npars=int(cfg.npars),
            init=[float(v) for v in cfg.suggested_init()],
            bounds=[(float(lo), float(hi)) for lo, hi in cfg.suggested_bounds()],
            fixed=[bool(f) for f in cfg.suggested_fixed()],
            poi_name=None if cfg.poi_name is None else str(cfg.poi_name),
            poi_index=None if cfg.poi_index is None else int(cfg.poi_index),
            par_names=[str(n) for n in cfg.par_names],
            auxdata=[float(v) for v in cfg.auxdata],
            constraint_terms=terms,
        )

    def to_json(self) -> dict:
        """A JSON-able dict (inverse: :meth:`from_json`)."""
        out = asdict(self)
        out["bounds"] = [list(b) for b in self.bounds]
        out["par_slices"] = {k: list(v) for k, v in self.par_slices.items()}
        return out

    @classmethod
    def from_json(cls, data: dict) -> Layout:
        """The layout of a :meth:`to_json` dict; ValueError/TypeError/KeyError if it is not one."""
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ValueError("not a layout")
        lay = cls(
            channels=[str(c) for c in data["channels"]],
            channel_nbins={str(c): int(n) for c, n in data["channel_nbins"].items()},
            par_order=[str(n) for n in data["par_order"]],
            par_slices={str(k): (int(a), int(b)) for k, (a, b) in data["par_slices"].items()},
            npars=int(data["npars"]),
            init=[float(v) for v in data["init"]],
            bounds=[(float(lo), float(hi)) for lo, hi in data["bounds"]],
            fixed=[bool(f) for f in data["fixed"]],
            poi_name=None if data["poi_name"] is None else str(data["poi_name"]),
            poi_index=None if data["poi_index"] is None else int(data["poi_index"]),
            par_names=[str(n) for n in data["par_names"]],
            auxdata=[float(v) for v in data["auxdata"]],
            constraint_terms=[
                ConstraintTerm(str(t["name"]), str(t["pdf_type"]),
                               None if t["values"] is None else [float(v) for v in t["values"]],
                               [float(w) for w in t["widths"]], str(t["modifier"]))
                for t in data["constraint_terms"]
            ],
        )
        lay.check()
        return lay

    def check(self) -> None:
        """ValueError unless the pieces fit together (sizes, slices, channels)."""
        n = self.npars
        if not (len(self.init) == len(self.bounds) == len(self.fixed) == len(self.par_names) == n):
            raise ValueError("layout: per-parameter lists do not have npars entries")
        if list(self.par_slices) != self.par_order or set(self.channel_nbins) != set(self.channels):
            raise ValueError("layout: parameter or channel names disagree")
        covered = sorted(i for a, b in self.par_slices.values() for i in range(a, b))
        if covered != list(range(n)):
            raise ValueError("layout: parameter slices do not tile 0..npars")
        naux = 0
        for t in self.constraint_terms:
            a, b = self.par_slices[t.name]
            if (t.values is not None and len(t.values) != b - a) or len(t.widths) != b - a:
                raise ValueError(f"layout: constraint of {t.name} has the wrong size")
            naux += b - a
        if naux != len(self.auxdata):
            raise ValueError("layout: auxdata size disagrees with the constraints")
        if self.poi_index is not None and self.par_slices.get(self.poi_name, (-1, -1))[0] != self.poi_index:
            raise ValueError("layout: POI index disagrees with its slice")
