"""Compilation of a HistFactory spec into flat index arrays (spec -> :class:`CompiledModel`).

The model has one "row" r per (sample, bin) pair.  Its expected yield is

    lambda_r = T_r * Q_r,   T_r = nom_r + sum_k Delta_kr(alpha_k)          (histosys, additive)
                            Q_r = prod_{e in row r} phi_e(theta_{p(e)})    (every other modifier)

(HistFactory note, K. Cranmer et al., CERN-OPEN-2012-016).  Each factor phi_e is an
"entry" e = (row, parameter): linear (phi = theta, for normfactor, lumi, shapefactor,
staterror, shapesys) or a normsys interpolation (phi = f(alpha)).  Rows are sorted by main bin,
so that sums over a bin are one ``np.add.reduceat``.

For the Hessian the parameters are split into "global" ones and "local" ones: a parameter is
local if it multiplies linearly the rows of a single main bin (MC-statistics gammas and the
like).  A local parameter couples only to the global ones and to the locals of its own bin, so
the Newton system is solved by a Schur complement over small per-bin blocks
(:mod:`xfit.histfactory.blocks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .modifiers import MODULES, SUPPORTED_MODIFIERS
from .normsys import code4_coefficients, code4_table


@dataclass
class Sample:
    """One sample of one channel, as compiled: nominal yields and workspace-format modifiers."""

    channel: str
    name: str
    nominal: np.ndarray
    modifiers: list


class ModelBuilder:
    """Collects the rows and entries while the modifier modules compile a spec."""

    def __init__(self, channels, channel_nbins, channel_offsets, par_slices, samples: list[Sample]):
        self.channels, self.channel_nbins, self.channel_offsets = channels, channel_nbins, channel_offsets
        self.par_slices = par_slices
        self.samples = samples
        #: modifier name -> channels where it appears (staterror components depend on it)
        self.modifier_channels: dict[str, set] = {}
        for s in samples:
            for m in s.modifiers:
                self.modifier_channels.setdefault(m["name"], set()).add(s.channel)
        # entries in compile order: row, parameter, normsys term (-1 for a linear factor)
        self.entry_rows: list[np.ndarray] = []
        self.entry_params: list[np.ndarray] = []
        self.entry_terms: list[np.ndarray] = []
        self.terms: dict[tuple[int, float, float], int] = {}  # (parameter, hi, lo) -> normsys term
        self.histo: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}  # name -> [(rows, dup, ddn)]
        self.histo_relative: dict[tuple[str, str], list] = {}  # (channel, sample) -> [(name, hi/nom, lo/nom)]
        self._current: tuple[str, str] | None = None

    # .. used by the modifier modules ...................................................
    def scalar_param(self, name: str) -> int:
        sl = self.par_slices[name]
        if sl.stop - sl.start != 1:
            raise InputError(f"modifier {name!r}: expected one parameter, found {sl.stop - sl.start}")
        return sl.start

    def vector_params(self, modifier: dict, channel: str) -> np.ndarray:
        sl, nb = self.par_slices[modifier["name"]], self.channel_nbins[channel]
        if sl.stop - sl.start != nb:
            raise InputError(
                f"{modifier['type']} {modifier['name']!r}: {sl.stop - sl.start} parameters "
                f"for {nb} bins of channel {channel!r}"
            )
        return np.arange(sl.start, sl.stop)

    def bin_array(self, modifier: dict, key: str, channel: str, rows) -> np.ndarray:
        data = modifier["data"] if key == "data" else modifier["data"][key]
        a = np.asarray(data, dtype=float)
        if a.shape != (len(rows),):
            raise InputError(
                f"{modifier['type']} {modifier['name']!r} in channel {channel!r}: {key} has "
                f"shape {a.shape}, the channel has {len(rows)} bins"
            )
        return a

    def add_linear(self, rows, params) -> None:
        rows = np.asarray(rows, int)
        self.entry_rows.append(rows)
        self.entry_params.append(np.broadcast_to(np.asarray(params, int), rows.shape).copy())
        self.entry_terms.append(np.full(rows.shape, -1))

    def add_normsys(self, rows, param: int, hi: float, lo: float) -> None:
        term = self.terms.setdefault((param, hi, lo), len(self.terms))
        rows = np.asarray(rows, int)
        self.entry_rows.append(rows)
        self.entry_params.append(np.full(rows.shape, param))
        self.entry_terms.append(np.full(rows.shape, term))

    def add_histosys(self, rows, name: str, dup, ddn, ratios=None) -> None:
        self.scalar_param(name)
        # in compile order: a later variation of the same (name, row) replaces an earlier one
        self.histo.setdefault(name, []).append((np.asarray(rows, int), np.asarray(dup, float), np.asarray(ddn, float)))
        if ratios is not None:
            self.histo_relative.setdefault(self._current, []).append((name, ratios[0], ratios[1]))


@dataclass
class CompiledModel:
    """Index arrays of a compiled model (shared, read-only, by copies made with ``with_data``).

    Templates (``nominal``, ``histo_up``, ``histo_dn``) are held by the model, since
    ``set_sample_template`` changes them.
    """

    nrows: int
    row_bin: np.ndarray  # (R,) main bin of each row; rows sorted by bin
    bin_start: np.ndarray  # (nbins,) first row of each bin (for np.add.reduceat)
    sample_rows: dict  # (channel, sample) -> rows of that sample, in bin order
    nominal: np.ndarray  # (R,) nominal yield of each row
    histo_param: np.ndarray  # (K,) parameter of each histosys variation k
    histo_up: np.ndarray  # (K, R) hi - nom of variation k on each row (0 if absent)
    histo_dn: np.ndarray  # (K, R) nom - lo
    histo_relative: dict  # (channel, sample) -> [(k, hi/nom, lo/nom)] (relative histosys)
    normsys_param: np.ndarray  # (U,) parameter of each normsys term u = (parameter, hi, lo)
    normsys_log_hi: np.ndarray  # (U,) ln hi
    normsys_log_lo: np.ndarray  # (U,) ln lo
    normsys_coef: np.ndarray  # (6, U) code4 polynomial coefficients a_1..a_6
    normsys_table: np.ndarray  # (3, U, 7) code4: coefficients of alpha^0..6 in f, f', f''
    entry_row: np.ndarray  # (E,) row of each multiplicative entry e
    entry_param: np.ndarray  # (E,) parameter of entry e
    entry_linear: np.ndarray  # entries with phi = theta (linear factors)
    entry_linear_param: np.ndarray  # their parameters (entry_param[entry_linear])
    entry_normsys: np.ndarray  # entries with phi = f(alpha) (normsys)
    entry_term: np.ndarray  # normsys term of each entry in entry_normsys
    row_entries: np.ndarray  # (R, S) entries of each row, padded with E (the factor 1)
    entry_slot: np.ndarray  # (E,) column of entry e in row_entries
    pair_first: np.ndarray  # (P,) ordered pairs (a, b), a != b, of entries of one row
    pair_second: np.ndarray  # (P,)
    pair_row: np.ndarray  # (P,) their row
    pair_keep: np.ndarray  # (P, S) False at the slots of a and b (product of the others)
    # global/local split of the parameters (see module docstring)
    global_params: np.ndarray  # (ng,) parameter indices of the global parameters
    local_params: np.ndarray  # (nl,) parameter indices of the local parameters
    global_pos: np.ndarray  # (npars,) position among the globals, -1 if local
    local_pos: np.ndarray  # (npars,) position among the locals, -1 if global
    local_bin: np.ndarray  # (nl,) main bin of each local parameter
    local_slot: np.ndarray  # (nl,) its slot in the per-bin block
    block_size: int  # m: largest number of locals in one bin
    local_flat: np.ndarray  # (nl,) local_bin * m + local_slot: position in the (nb * m) block layout
    block_param: np.ndarray  # (nb * m,) parameter at each slot of the block layout (0 where unused)
    slot_used: np.ndarray  # (nb, m) True where a bin's block slot holds a local parameter
    histo_gpos: np.ndarray  # (K,) global position of each histosys parameter
    entries_global: np.ndarray  # entries whose parameter is global
    entries_local: np.ndarray  # entries whose parameter is local
    pair_gg: np.ndarray  # pairs global-global, global-local, local-local
    pair_gl: np.ndarray
    pair_ll: np.ndarray
    # flat indices of the Hessian scatter-adds (np.bincount is much faster than np.add.at)
    scatter_jac: np.ndarray  # (bin, global) of the Jacobian terms: histosys (k, row), then global entries
    scatter_a: np.ndarray  # (global, global) of the second-derivative terms: global entries
    # (diagonal), histosys diagonal, histosys x global entries (both
    # orders), global-global pairs
    entries_global_row: np.ndarray  # row of each global entry (entry_row[entries_global])
    local_entries: np.ndarray  # local entries sorted by their local parameter
    local_entries_row: np.ndarray  # their rows
    local_entry_start: np.ndarray | None  # first of each local parameter's entries (None: one each)
    scatter_pgl: np.ndarray  # (global, local) of global-local pairs
    scatter_pll: np.ndarray  # (bin, slot, slot) of local-local pairs


def compile_model(builder: ModelBuilder, npars: int, nbins: int, par_order) -> CompiledModel:
    """Run every modifier module over the samples and build the index arrays."""
    rows_bin, nom, sample_rows = [], [], {}
    r = 0
    for s in builder.samples:
        nb = builder.channel_nbins[s.channel]
        if len(s.nominal) != nb:
            raise InputError(f"sample {s.name!r} in channel {s.channel!r}: {len(s.nominal)} bins, expected {nb}")
        if not np.isfinite(s.nominal).all():
            bad = int(np.flatnonzero(~np.isfinite(s.nominal))[0])
            raise InputError(f"sample {s.name!r} in channel {s.channel!r}: yield {float(s.nominal[bad]):g} in bin "
                             f"{bad}; accepted: finite numbers")
        if (s.channel, s.name) in sample_rows:
            raise InputError(f"sample {s.name!r} appears twice in channel {s.channel!r}")
        rows = np.arange(r, r + nb)
        sample_rows[(s.channel, s.name)] = rows
        rows_bin.append(builder.channel_offsets[s.channel] + np.arange(nb))
        nom.append(s.nominal)
        builder._current = (s.channel, s.name)
        for m in s.modifiers:
            t, n = m["type"], m["name"]
            if t not in MODULES:
                raise InputError(
                    f"modifier type {t!r} ({n}) not supported; supported: {', '.join(SUPPORTED_MODIFIERS)}"
                )
            if n not in builder.par_slices:
                raise InputError(f"modifier {n!r} of sample {s.name!r} refers to no parameter of the model")
            _check_finite_data(m, s)
            MODULES[t].compile(builder, m, s.channel, rows, s.nominal)
        r += nb
    R = r
    rows_bin = np.concatenate(rows_bin) if rows_bin else np.zeros(0, int)
    perm = np.argsort(rows_bin, kind="stable")
    new = np.empty(R, dtype=int)  # old row -> row in bin order
    new[perm] = np.arange(R)
    row_bin = rows_bin[perm]
    if np.any(np.bincount(row_bin, minlength=nbins) == 0):
        raise InputError("every bin needs at least one sample")
    bin_start = np.searchsorted(row_bin, np.arange(nbins))

    # histosys: dense (K x R) variation matrices, in parameter order
    histo_names = [n for n in par_order if n in builder.histo]
    histo_param = np.array([builder.par_slices[n].start for n in histo_names], dtype=int)
    histo_up, histo_dn = np.zeros((len(histo_names), R)), np.zeros((len(histo_names), R))
    for k, n in enumerate(histo_names):
        for rr, du, dd in builder.histo[n]:
            histo_up[k, new[rr]], histo_dn[k, new[rr]] = du, dd
    histo_relative = {
        key: [(histo_names.index(n), hi, lo) for n, hi, lo in v] for key, v in builder.histo_relative.items()
    }

    # normsys terms
    keys = sorted(builder.terms, key=builder.terms.get)
    hi = np.array([k[1] for k in keys], dtype=float)
    lo = np.array([k[2] for k in keys], dtype=float)

    # multiplicative entries, in compile order
    def cat(xs):
        return np.concatenate(xs).astype(int) if xs else np.zeros(0, int)

    entry_row, entry_param, kind = new[cat(builder.entry_rows)], cat(builder.entry_params), cat(builder.entry_terms)
    E = len(entry_row)

    per_row: list[list[int]] = [[] for _ in range(R)]
    for e, rr in enumerate(entry_row):
        per_row[rr].append(e)
    S = max(1, max((len(x) for x in per_row), default=1))
    row_entries = np.full((R, S), E, dtype=int)
    entry_slot = np.empty(E, dtype=int)
    for rr, es in enumerate(per_row):
        row_entries[rr, : len(es)] = es
        entry_slot[es] = np.arange(len(es))
    pairs = np.array(
        [(es[i], es[j]) for es in per_row for i in range(len(es)) for j in range(len(es)) if i != j], dtype=int
    ).reshape(-1, 2)
    pair_keep = np.ones((len(pairs), S), dtype=bool)
    pair_keep[np.arange(len(pairs)), entry_slot[pairs[:, 0]]] = False
    pair_keep[np.arange(len(pairs)), entry_slot[pairs[:, 1]]] = False

    c = {
        "nrows": R,
        "row_bin": row_bin,
        "bin_start": bin_start,
        "sample_rows": {k: new[v] for k, v in sample_rows.items()},
        "nominal": np.concatenate(nom)[perm] if nom else np.zeros(0),
        "histo_param": histo_param,
        "histo_up": histo_up,
        "histo_dn": histo_dn,
        "histo_relative": histo_relative,
        "normsys_param": np.array([k[0] for k in keys], dtype=int),
        "normsys_log_hi": np.log(hi),
        "normsys_log_lo": np.log(lo),
        "normsys_coef": code4_coefficients(hi, lo) if len(keys) else np.zeros((6, 0)),
        "normsys_table": code4_table(code4_coefficients(hi, lo) if len(keys) else np.zeros((6, 0))),
        "entry_row": entry_row,
        "entry_param": entry_param,
        "entry_linear": np.flatnonzero(kind < 0),
        "entry_linear_param": entry_param[kind < 0],
        "entry_normsys": np.flatnonzero(kind >= 0),
        "entry_term": kind[kind >= 0],
        "row_entries": row_entries,
        "entry_slot": entry_slot,
        "pair_first": pairs[:, 0],
        "pair_second": pairs[:, 1],
        "pair_row": entry_row[pairs[:, 0]],
        "pair_keep": pair_keep,
    }
    c.update(_split_parameters(c, npars, nbins))
    return CompiledModel(**c)


def _split_parameters(c: dict, npars: int, nbins: int) -> dict:
    """Global/local parameters and the flat scatter indices of the block Hessian."""
    entry_row, entry_param, row_bin = c["entry_row"], c["entry_param"], c["row_bin"]
    bins_of = [set() for _ in range(npars)]
    for r, p in zip(entry_row.tolist(), entry_param.tolist()):
        bins_of[p].add(int(row_bin[r]))
    nonlinear = set(c["histo_param"].tolist()) | set(c["normsys_param"].tolist())
    is_local = np.array([len(bins_of[p]) == 1 and p not in nonlinear for p in range(npars)], dtype=bool)
    glob, loc = np.flatnonzero(~is_local), np.flatnonzero(is_local)
    ng, nl = len(glob), len(loc)
    gpos = np.full(npars, -1, dtype=int)
    gpos[glob] = np.arange(ng)
    lpos = np.full(npars, -1, dtype=int)
    lpos[loc] = np.arange(nl)
    lbin = np.array([min(bins_of[p]) for p in loc], dtype=int)
    counts = np.bincount(lbin, minlength=nbins) if nl else np.zeros(nbins, int)
    m = max(1, int(counts.max()) if nl else 1)
    lslot = np.zeros(nl, dtype=int)
    seen = np.zeros(nbins, dtype=int)
    for i, b in enumerate(lbin):
        lslot[i] = seen[b]
        seen[b] += 1
    hpos = gpos[c["histo_param"]]
    slot_used = np.zeros((nbins, m), dtype=bool)
    slot_used[lbin, lslot] = True
    glob_e = gpos[entry_param] >= 0
    eg, el = np.flatnonzero(glob_e), np.flatnonzero(~glob_e)
    a, b = c["pair_first"], c["pair_second"]
    ga, gb = glob_e[a], glob_e[b]
    pgg, pgl, pll = np.flatnonzero(ga & gb), np.flatnonzero(ga & ~gb), np.flatnonzero(~ga & ~gb)
    er, ep = entry_row, entry_param
    by_local = el[np.argsort(lpos[ep[el]], kind="stable")]
    starts = np.searchsorted(lpos[ep[by_local]], np.arange(nl))
    la, lb = lpos[ep[a[pll]]], lpos[ep[b[pll]]]
    return {
        "global_params": glob,
        "local_params": loc,
        "global_pos": gpos,
        "local_pos": lpos,
        "local_bin": lbin,
        "local_slot": lslot,
        "block_size": m,
        "local_flat": lbin * m + lslot,
        "block_param": _block_param(loc, lbin * m + lslot, nbins * m),
        "slot_used": slot_used,
        "histo_gpos": hpos,
        "entries_global": eg,
        "entries_local": el,
        "pair_gg": pgg,
        "pair_gl": pgl,
        "pair_ll": pll,
        "scatter_jac": np.concatenate(
            [(row_bin[None, :] * ng + hpos[:, None]).ravel(), row_bin[er[eg]] * ng + gpos[ep[eg]]]
        ),
        "scatter_a": np.concatenate(
            [
                gpos[ep[eg]] * (ng + 1),
                hpos * (ng + 1),
                (hpos[:, None] * ng + gpos[ep[eg]][None, :]).ravel(),
                (gpos[ep[eg]][None, :] * ng + hpos[:, None]).ravel(),
                gpos[ep[a[pgg]]] * ng + gpos[ep[b[pgg]]],
            ]
        ).astype(int),
        "entries_global_row": er[eg],
        "local_entries": by_local,
        "local_entries_row": er[by_local],
        "local_entry_start": None if len(by_local) == nl else starts,
        "scatter_pgl": gpos[ep[a[pgl]]] * nl + lpos[ep[b[pgl]]],
        "scatter_pll": (lbin[la] * m + lslot[la]) * m + lslot[lb],
    }


def _check_finite_data(modifier: dict, sample) -> None:
    """InputError unless every number in the data of ``modifier`` (of ``sample``) is finite."""
    data = modifier.get("data")
    parts = data.items() if isinstance(data, dict) else [("data", data)] if data is not None else []
    for key, value in parts:
        try:
            a = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            continue  # not numbers: the modifier's own compile step names it
        if not np.isfinite(a).all():
            raise InputError(f"{modifier['type']} {modifier['name']!r} of sample {sample.name!r} in channel "
                             f"{sample.channel!r}: {key} {str(value)[:80]}; accepted: finite numbers")


def _block_param(local_params, local_flat, size) -> np.ndarray:
    out = np.zeros(size, dtype=int)
    out[local_flat] = local_params
    return out
