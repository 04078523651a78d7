"""A fast HistFactory negative log-likelihood with exact analytic gradient and Hessian.

The model is the one pyhf builds from a workspace (K. Cranmer et al., CERN-OPEN-2012-016;
pyhf: L. Heinrich, M. Feickert, G. Stark, K. Cranmer, JOSS 6 (2021) 2823), evaluated by one
fused, vectorised numpy function with every index array and matrix precomputed once.  With a
"row" r for each (sample, bin) pair,

    lambda_r = T_r * Q_r,   T_r = nom_r + sum_k Delta_kr(alpha_k)        (histosys, additive)
                            Q_r = prod_e phi_e(theta_p(e))   (normsys, normfactor, staterror,
                                                              shapesys, shapefactor, lumi)
    lambda_b = sum_{r in bin b} lambda_r
    -ln L = sum_b [lambda_b - n_b ln lambda_b + ln Gamma(n_b + 1)]
            - sum ln Normal(aux | theta, sigma) - sum ln Poisson(aux | theta * tau)

* ``histosys`` with pyhf 0.7's default ``code4p``: Delta = alpha (up - nom) for alpha > 1,
  alpha (nom - down) for alpha < -1, and alpha S + alpha^2 A (15 - 10 alpha^2 + 3 alpha^4) in
  between, S = (dup + ddn)/2, A = (dup - ddn)/16 (pyhf.interpolators.code4p);
* ``normsys`` with ``code4``: hi^alpha for alpha >= 1, lo^-alpha for alpha <= -1, and the
  6th-order polynomial 1 + sum_i a_i alpha^i in between whose coefficients match value, first
  and second derivatives at |alpha| = 1 (pyhf.interpolators.code4, alpha0 = 1);
* ``normfactor``/``shapefactor`` free, ``staterror`` and ``lumi`` Gaussian-constrained,
  ``shapesys`` Poisson-constrained (rate theta * tau, tau = (nom / sigma)^2), all linear factors.

Main and constraint terms carry pyhf's full normalisation, so ``-nll(theta)`` equals
``pyhf.Model.logpdf(theta, data)`` (tested to 1e-8 relative).  The gradient and the Hessian
are exact (tested against finite differences).

Parameter layout (order, slices, bounds, initial values, fixed flags, constraint widths and
auxiliary data) is taken from ``pyhf.Model(spec).config``: the parameter vector has pyhf's
``par_order``/``par_map``, so results compare 1:1 with pyhf.  Extra samples (used by the
B+ -> K+ X reinterpretation) can be added with a new free normalisation parameter appended
after pyhf's parameters (:class:`ExtraSample`); their templates can be changed cheaply
(:meth:`HistFactoryModel.set_sample_template`).

Minimisation (:func:`minimize`): a projected Newton method with the exact Hessian (bounds by
an active set, Levenberg damping if the Hessian is not positive definite, Armijo
backtracking), converged when the expected decrease g.H^-1.g/2 < 1e-9; iminuit MIGRAD with
the analytic gradient is available as ``method="migrad"`` for cross-checks.  Warm starts:
pass any starting vector.  :func:`covariance` inverts the exact Hessian (what HESSE estimates
numerically).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln, xlogy

from ..errors import ConvergenceError, InputError

#: Modifier types of the HistFactory schema that this module implements.
SUPPORTED_MODIFIERS = ("normfactor", "normsys", "histosys", "staterror", "shapesys", "shapefactor", "lumi")


# --- interpolation (pyhf 0.7 defaults) -----------------------------------------------------

#: Inverse of the 6x6 system fixing the code4 polynomial at alpha0 = 1 (pyhf.interpolators.code4).
_CODE4_AINV = np.array([
    [15.0 / 16, -15.0 / 16, -7.0 / 16, -7.0 / 16, 1.0 / 16, -1.0 / 16],
    [3.0 / 2, 3.0 / 2, -9.0 / 16, 9.0 / 16, 1.0 / 16, 1.0 / 16],
    [-5.0 / 8, 5.0 / 8, 5.0 / 8, 5.0 / 8, -1.0 / 8, 1.0 / 8],
    [-3.0 / 2, -3.0 / 2, 7.0 / 8, -7.0 / 8, -1.0 / 8, -1.0 / 8],
    [3.0 / 16, -3.0 / 16, -3.0 / 16, -3.0 / 16, 1.0 / 16, -1.0 / 16],
    [1.0 / 2, 1.0 / 2, -5.0 / 16, 5.0 / 16, 1.0 / 16, 1.0 / 16],
])
_I6 = np.arange(1, 7, dtype=float)


def code4_coefficients(hi, lo) -> np.ndarray:
    """Coefficients a_1..a_6 (leading axis) of the code4 polynomial for factors hi, lo > 0."""
    hi, lo = np.asarray(hi, float), np.asarray(lo, float)
    lu, ld = np.log(hi), np.log(lo)
    b = np.stack([hi - 1.0, lo - 1.0, lu * hi, -ld * lo, lu * lu * hi, ld * ld * lo])
    return np.tensordot(_CODE4_AINV, b, axes=(1, 0))


def code4(alpha, log_hi, log_lo, coef):
    """normsys factor f(alpha) and its first two derivatives (pyhf code4, alpha0 = 1).

    ``alpha``, ``log_hi``, ``log_lo``: shape (U,); ``coef``: (6, U).
    """
    a = np.asarray(alpha, dtype=float)
    p = a[None, :] ** np.arange(0, 7)[:, None]  # alpha^0..alpha^6, shape (7, U)
    poly = 1.0 + np.einsum("iu,iu->u", coef, p[1:])
    dpoly = np.einsum("iu,iu->u", coef * _I6[:, None], p[:-1])
    d2poly = np.einsum("iu,iu->u", coef[1:] * (_I6[1:] * _I6[:-1])[:, None], p[:-2])
    f, df, d2f = poly, dpoly, d2poly
    up, dn = a >= 1.0, a <= -1.0
    if up.any() or dn.any():
        f, df, d2f = f.copy(), df.copy(), d2f.copy()
        e = np.exp(a[up] * log_hi[up])
        f[up], df[up], d2f[up] = e, log_hi[up] * e, log_hi[up] ** 2 * e
        e = np.exp(-a[dn] * log_lo[dn])
        f[dn], df[dn], d2f[dn] = e, -log_lo[dn] * e, log_lo[dn] ** 2 * e
    return f, df, d2f


def code4p_weights(alpha):
    """Weights of pyhf code4p: Delta = w_up (up - nom) + w_dn (nom - down).

    alpha > 1: (alpha, 0); alpha < -1: (0, alpha); otherwise alpha/2 +- g(alpha) with
    g = alpha^2 (15 - 10 alpha^2 + 3 alpha^4) / 16.  Returns w_up, w_dn, and their first and
    second derivatives.
    """
    a = np.asarray(alpha, dtype=float)
    a2 = a * a
    g = a2 * (15.0 + a2 * (-10.0 + 3.0 * a2)) / 16.0
    dg = a * (30.0 + a2 * (-40.0 + 18.0 * a2)) / 16.0
    d2g = (30.0 + a2 * (-120.0 + 90.0 * a2)) / 16.0
    w_up, w_dn = 0.5 * a + g, 0.5 * a - g
    dw_up, dw_dn = 0.5 + dg, 0.5 - dg
    d2w_up, d2w_dn = d2g, -d2g
    hi, lo = a > 1.0, a < -1.0
    if hi.any() or lo.any():
        out = hi | lo
        w_up = np.where(hi, a, np.where(lo, 0.0, w_up))
        w_dn = np.where(lo, a, np.where(hi, 0.0, w_dn))
        dw_up = np.where(hi, 1.0, np.where(lo, 0.0, dw_up))
        dw_dn = np.where(lo, 1.0, np.where(hi, 0.0, dw_dn))
        d2w_up = np.where(out, 0.0, d2w_up)
        d2w_dn = np.where(out, 0.0, d2w_dn)
    return w_up, w_dn, dw_up, dw_dn, d2w_up, d2w_dn


# --- model ---------------------------------------------------------------------------------

@dataclass
class ExtraSample:
    """A sample added to the workspace model (not part of the published workspace).

    ``templates`` maps channel name -> nominal template (per unit of ``norm_parameter``);
    ``modifiers`` maps channel name -> modifiers in workspace format that refer to *existing*
    parameters.  ``norm_parameter`` is a new free normfactor appended after pyhf's parameters
    (bounds ``norm_bounds``, initial value ``norm_init``).  A ``histosys`` modifier with
    ``"relative": True`` gives ``hi_data``/``lo_data`` as ratios to nominal (hi/nom, lo/nom);
    the variations are rescaled to the template whenever it changes.
    """

    name: str
    norm_parameter: str
    templates: dict[str, np.ndarray]
    modifiers: dict[str, list[dict]] = field(default_factory=dict)
    norm_bounds: tuple[float, float] = (0.0, 10.0)
    norm_init: float = 0.0


class HistFactoryModel:
    """HistFactory NLL of a pyhf workspace spec, with analytic gradient and Hessian.

    Attributes: ``par_order``/``par_slices`` (pyhf's, plus appended extra parameters),
    ``npars``, ``init``, ``bounds`` (npars, 2), ``fixed`` (bool), ``poi_index``,
    ``par_names`` (one label per component, e.g. ``"gamma[3]"``), ``observed`` (main bins in
    pyhf's channel order), ``auxdata`` (pyhf's auxdata order).
    """

    def __init__(self, spec: dict, extra_samples: list[ExtraSample] | tuple = (), measurement: str | None = None):
        import pyhf

        saved = pyhf.get_backend()
        try:
            pyhf.set_backend("numpy")  # the layout below is read as numpy arrays
            ws = pyhf.Workspace(spec)
            model = ws.model(measurement_name=measurement)
        finally:
            pyhf.set_backend(*saved)
        cfg = model.config
        self.pyhf_model = model  # kept for comparisons and stock fits
        self.workspace = ws
        self.channels = list(cfg.channels)
        self.channel_nbins = dict(cfg.channel_nbins)
        self.channel_offsets, o = {}, 0
        for c in self.channels:
            self.channel_offsets[c] = o
            o += self.channel_nbins[c]
        self.nbins = o

        self.par_order = list(cfg.par_order)
        self.par_slices = {n: cfg.par_slice(n) for n in self.par_order}
        npars = cfg.npars
        init = list(cfg.suggested_init())
        bounds = [tuple(b) for b in cfg.suggested_bounds()]
        fixed = list(cfg.suggested_fixed())
        for es in extra_samples:
            if es.norm_parameter in self.par_slices:
                raise InputError(f"extra parameter {es.norm_parameter!r} already exists in the workspace")
            self.par_order.append(es.norm_parameter)
            self.par_slices[es.norm_parameter] = slice(npars, npars + 1)
            npars += 1
            init.append(float(es.norm_init))
            bounds.append(tuple(es.norm_bounds))
            fixed.append(False)
        self.npars = npars
        self.init = np.asarray(init, dtype=float)
        self.bounds = np.asarray(bounds, dtype=float)
        self.fixed = np.asarray(fixed, dtype=bool)
        self.poi_name = cfg.poi_name
        self.poi_index = cfg.poi_index
        self.par_names = []
        for n in self.par_order:
            sl = self.par_slices[n]
            k = sl.stop - sl.start
            self.par_names += [n] if k == 1 else [f"{n}[{i}]" for i in range(k)]

        # constraints, in pyhf's auxdata order
        g_idx, g_pos, g_sig, p_idx, p_pos, p_fac = [], [], [], [], [], []
        pos = 0
        for pname in cfg.auxdata_order:
            ps = cfg.param_set(pname)
            sl = self.par_slices[pname]
            idx = list(range(sl.start, sl.stop))
            where = list(range(pos, pos + len(idx)))
            pos += len(idx)
            if ps.pdf_type == "normal":
                g_idx += idx
                g_pos += where
                g_sig += list(ps.sigmas) if hasattr(ps, "sigmas") else [1.0] * len(idx)
            elif ps.pdf_type == "poisson":
                p_idx += idx
                p_pos += where
                p_fac += list(ps.factors)
            else:  # pragma: no cover - pyhf has only these two
                raise InputError(f"unsupported constraint type {ps.pdf_type!r} for {pname}")
        self._g_idx, self._g_pos = np.asarray(g_idx, int), np.asarray(g_pos, int)
        self._g_sig = np.asarray(g_sig, float)
        self._g_inv2 = 1.0 / self._g_sig ** 2
        self._g_const = float(np.sum(np.log(self._g_sig * math.sqrt(2.0 * math.pi))))
        self._p_idx, self._p_pos = np.asarray(p_idx, int), np.asarray(p_pos, int)
        self._p_fac = np.asarray(p_fac, float)
        self.naux = pos

        self._build_rows(spec, extra_samples)
        self.set_data(np.asarray(ws.data(model, include_auxdata=False), float), np.asarray(cfg.auxdata, float))

    # .. construction ......................................................................
    def _component_params(self, mtype: str, name: str, channel: str) -> np.ndarray:
        """Parameter index of each bin of ``channel`` for a per-bin modifier."""
        sl = self.par_slices[name]
        nb = self.channel_nbins[channel]
        if mtype == "staterror":
            # pyhf: the components are the global bins where the modifier is present, in order
            start = sl.start
            for c in self.channels:
                if c == channel:
                    return np.arange(start, start + nb)
                if c in self._staterror_channels[name]:
                    start += self.channel_nbins[c]
        if sl.stop - sl.start != nb:
            raise InputError(f"{mtype} {name}: {sl.stop - sl.start} parameters for {nb} bins in {channel}")
        return np.arange(sl.start, sl.stop)

    def _build_rows(self, spec, extra_samples) -> None:
        chan_spec = {c["name"]: c for c in spec["channels"]}
        samples = []  # (channel, sample, nominal, modifiers)
        for c in self.channels:
            for s in chan_spec[c]["samples"]:
                samples.append((c, s["name"], np.asarray(s["data"], float), s["modifiers"]))
        for es in extra_samples:
            for c, tmpl in es.templates.items():
                if c not in self.channel_nbins:
                    raise InputError(f"extra sample {es.name}: unknown channel {c!r}")
                mods = [{"type": "normfactor", "name": es.norm_parameter, "data": None}] + list(es.modifiers.get(c, []))
                samples.append((c, es.name, np.asarray(tmpl, float), mods))
        self._staterror_channels: dict[str, set] = {}
        for c, _, _, mods in samples:
            for m in mods:
                if m["type"] == "staterror":
                    self._staterror_channels.setdefault(m["name"], set()).add(c)

        rows_bin, nom = [], []
        sample_rows: dict[tuple[str, str], np.ndarray] = {}
        hist: dict[str, dict[int, tuple[float, float]]] = {}
        rel_hist: dict[tuple[str, str], list] = {}
        entries = []  # (row, parameter, normsys term or -1 for a linear factor)
        terms: dict[tuple[int, float, float], int] = {}  # (parameter, hi, lo) -> normsys term
        r = 0
        for c, sname, data, mods in samples:
            nb = self.channel_nbins[c]
            if len(data) != nb:
                raise InputError(f"sample {sname} in {c}: {len(data)} bins, expected {nb}")
            if (c, sname) in sample_rows:
                raise InputError(f"sample {sname} appears twice in channel {c}")
            rows = np.arange(r, r + nb)
            sample_rows[(c, sname)] = rows
            rows_bin += list(self.channel_offsets[c] + np.arange(nb))
            nom += list(data)
            for m in mods:
                t, n = m["type"], m["name"]
                if t not in SUPPORTED_MODIFIERS:
                    raise InputError(f"modifier type {t!r} ({n}) not supported; supported: {', '.join(SUPPORTED_MODIFIERS)}")
                if n not in self.par_slices:
                    raise InputError(f"modifier {n!r} of sample {sname} refers to no parameter of the workspace")
                if t in ("normfactor", "lumi"):
                    p = self.par_slices[n].start
                    entries += [(int(rr), p, -1) for rr in rows]
                elif t in ("staterror", "shapesys", "shapefactor"):
                    entries += [(int(rr), int(pp), -1) for rr, pp in zip(rows, self._component_params(t, n, c))]
                elif t == "normsys":
                    key = (self.par_slices[n].start, float(m["data"]["hi"]), float(m["data"]["lo"]))
                    u = terms.setdefault(key, len(terms))
                    entries += [(int(rr), key[0], u) for rr in rows]
                else:  # histosys
                    hi = np.asarray(m["data"]["hi_data"], float)
                    lo = np.asarray(m["data"]["lo_data"], float)
                    if m.get("relative"):
                        rel_hist.setdefault((c, sname), []).append((n, hi, lo))
                        hi, lo = hi * data, lo * data
                    d = hist.setdefault(n, {})
                    for j, rr in enumerate(rows):
                        d[int(rr)] = (hi[j] - data[j], data[j] - lo[j])
            r += nb
        R = self.nrows = r

        # rows are stored sorted by main bin, so that sums over a bin are np.add.reduceat
        rows_bin = np.asarray(rows_bin, int)
        perm = np.argsort(rows_bin, kind="stable")
        new = np.empty(R, dtype=int)
        new[perm] = np.arange(R)
        self._row_bin = rows_bin[perm]
        self._bin_start = np.searchsorted(self._row_bin, np.arange(self.nbins))
        if np.any(np.bincount(self._row_bin, minlength=self.nbins) == 0):
            raise InputError("every bin needs at least one sample")
        self._nom = np.asarray(nom, float)[perm]
        self.sample_rows = {k: new[v] for k, v in sample_rows.items()}

        # histosys: dense (K_h x R) variation matrices
        self._h_names = [n for n in self.par_order if n in hist]
        self._h_idx = np.array([self.par_slices[n].start for n in self._h_names], dtype=int)
        self._h_up = np.zeros((len(self._h_names), R))
        self._h_dn = np.zeros((len(self._h_names), R))
        for k, n in enumerate(self._h_names):
            for rr, (du, dd) in hist[n].items():
                self._h_up[k, new[rr]], self._h_dn[k, new[rr]] = du, dd
        self._rel_hist = {key: [(self._h_names.index(n), hi, lo) for n, hi, lo in v] for key, v in rel_hist.items()}

        # normsys terms (one per parameter and (hi, lo) pair)
        keys = sorted(terms, key=terms.get)
        self._u_par = np.array([k[0] for k in keys], dtype=int)
        hi = np.array([k[1] for k in keys], dtype=float)
        lo = np.array([k[2] for k in keys], dtype=float)
        if np.any(hi <= 0) or np.any(lo <= 0):
            raise InputError("normsys factors hi, lo must be positive (code4 takes their logarithm)")
        self._u_loghi, self._u_loglo = np.log(hi), np.log(lo)
        self._u_coef = code4_coefficients(hi, lo) if len(keys) else np.zeros((6, 0))

        # multiplicative entries and the (R x S) table of each row's entries
        E = len(entries)
        self._e_row = np.array([new[e[0]] for e in entries], dtype=int)
        self._e_par = np.array([e[1] for e in entries], dtype=int)
        term = np.array([e[2] for e in entries], dtype=int)
        self._e_lin = np.flatnonzero(term < 0)
        self._e_nsys = np.flatnonzero(term >= 0)
        self._e_term = term[self._e_nsys]
        per_row: list[list[int]] = [[] for _ in range(R)]
        for e, rr in enumerate(self._e_row):
            per_row[rr].append(e)
        S = max(1, max(len(x) for x in per_row))
        tab = np.full((R, S), E, dtype=int)  # E = the padding entry (phi = 1)
        self._e_slot = np.empty(E, dtype=int)
        for rr, es in enumerate(per_row):
            tab[rr, :len(es)] = es
            self._e_slot[es] = np.arange(len(es))
        self._tab = tab
        pairs = np.array([(es[i], es[j]) for es in per_row for i in range(len(es)) for j in range(len(es)) if i != j],
                         dtype=int).reshape(-1, 2)
        self._pair_a, self._pair_b = pairs[:, 0], pairs[:, 1]
        self._pair_row = self._e_row[self._pair_a]
        self._pair_keep = np.ones((len(pairs), S), dtype=bool)
        self._pair_keep[np.arange(len(pairs)), self._e_slot[self._pair_a]] = False
        self._pair_keep[np.arange(len(pairs)), self._e_slot[self._pair_b]] = False

        # global and local parameters.  A parameter is "local" if it only multiplies rows of
        # one main bin linearly (staterror, shapesys, shapefactor components): its Hessian
        # couples only to parameters of that bin and to global ones, so the Newton system is
        # solved by a Schur complement over small per-bin blocks.
        self._classify_parameters()

    def _classify_parameters(self) -> None:
        npar = self.npars
        bins_of = [set() for _ in range(npar)]
        for e in range(len(self._e_row)):
            bins_of[self._e_par[e]].add(int(self._row_bin[self._e_row[e]]))
        nonlinear = set(self._h_idx.tolist()) | set(self._u_par.tolist())
        is_local = np.array([len(bins_of[p]) == 1 and p not in nonlinear for p in range(npar)], dtype=bool)
        self._glob = np.flatnonzero(~is_local)
        self._loc = np.flatnonzero(is_local)
        ng, nl = len(self._glob), len(self._loc)
        self._gpos = np.full(npar, -1, dtype=int)
        self._gpos[self._glob] = np.arange(ng)
        self._lpos = np.full(npar, -1, dtype=int)
        self._lpos[self._loc] = np.arange(nl)
        self._lbin = np.array([min(bins_of[p]) for p in self._loc], dtype=int)
        counts = np.bincount(self._lbin, minlength=self.nbins) if nl else np.zeros(self.nbins, int)
        self._blk = max(1, int(counts.max()) if nl else 1)
        self._lslot = np.zeros(nl, dtype=int)
        seen = np.zeros(self.nbins, dtype=int)
        for i, b in enumerate(self._lbin):
            self._lslot[i] = seen[b]
            seen[b] += 1
        self._hpos = self._gpos[self._h_idx]
        glob_e = self._gpos[self._e_par] >= 0
        self._eg = np.flatnonzero(glob_e)
        self._el = np.flatnonzero(~glob_e)
        ga = glob_e[self._pair_a]
        gb = glob_e[self._pair_b]
        self._pair_gg = np.flatnonzero(ga & gb)
        self._pair_gl = np.flatnonzero(ga & ~gb)
        self._pair_ll = np.flatnonzero(~ga & ~gb)
        self._cg = self._gpos[self._g_idx] >= 0
        self._cp = self._gpos[self._p_idx] >= 0
        # flat indices for the scatter-adds of the Hessian (np.bincount is much faster than np.add.at)
        er, ep, eg, el = self._e_row, self._e_par, self._eg, self._el
        R, m = self.nrows, self._blk
        self._i_jg = self._row_bin[er[eg]] * ng + self._gpos[ep[eg]]
        self._i_sm = self._gpos[ep[eg]] * R + er[eg]
        self._i_adiag = self._gpos[ep[eg]] * (ng + 1)
        self._i_bh = (self._hpos[:, None] * nl + self._lpos[ep[el]][None, :]).ravel()
        a, b = self._pair_a, self._pair_b
        i = self._pair_gg
        self._i_pgg = self._gpos[ep[a[i]]] * ng + self._gpos[ep[b[i]]]
        i = self._pair_gl
        self._i_pgl = self._gpos[ep[a[i]]] * nl + self._lpos[ep[b[i]]]
        i = self._pair_ll
        la, lb = self._lpos[ep[a[i]]], self._lpos[ep[b[i]]]
        self._i_pll = (self._lbin[la] * m + self._lslot[la]) * m + self._lslot[lb]

    # .. data ..............................................................................
    def set_data(self, observed, auxdata=None) -> None:
        """Set the main-bin counts (pyhf channel order) and optionally the auxiliary data."""
        obs = np.asarray(observed, dtype=float)
        if obs.shape != (self.nbins,):
            raise InputError(f"observed data need {self.nbins} bins, got shape {obs.shape}")
        self.observed = obs
        self._main_const = float(np.sum(gammaln(obs + 1.0)))
        if auxdata is not None:
            aux = np.asarray(auxdata, dtype=float)
            if aux.shape != (self.naux,):
                raise InputError(f"auxiliary data need {self.naux} values, got shape {aux.shape}")
            self.auxdata = aux
            self._g_aux = aux[self._g_pos]
            self._p_aux = aux[self._p_pos]
            self._p_const = float(np.sum(gammaln(self._p_aux + 1.0)))

    def with_data(self, observed, auxdata=None) -> "HistFactoryModel":
        """A shallow copy with other data (templates are shared until one is changed)."""
        other = copy.copy(self)
        other.set_data(observed, auxdata)
        return other

    def asimov_data(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """(main, aux) expected at ``theta``, as pyhf's ``expected_data`` (Asimov data set).

        Gaussian auxiliary data become theta, Poisson ones theta * tau.
        """
        theta = np.asarray(theta, dtype=float)
        aux = np.empty(self.naux)
        aux[self._g_pos] = theta[self._g_idx]
        aux[self._p_pos] = theta[self._p_idx] * self._p_fac
        return self.expected_main(theta), aux

    # .. templates of extra samples .........................................................
    def set_sample_template(self, channel: str, sample: str, template) -> None:
        """Replace the nominal template of (channel, sample); relative histosys follow it."""
        rows = self.sample_rows[(channel, sample)]
        t = np.asarray(template, dtype=float)
        if t.shape != rows.shape:
            raise InputError(f"template for {sample} in {channel} needs {len(rows)} bins, got {t.shape}")
        self._nom = self._nom.copy()  # copies made by with_data() keep their own templates
        self._nom[rows] = t
        if (channel, sample) in self._rel_hist:
            self._h_up, self._h_dn = self._h_up.copy(), self._h_dn.copy()
            for k, hi, lo in self._rel_hist[(channel, sample)]:
                self._h_up[k, rows] = (hi - 1.0) * t
                self._h_dn[k, rows] = (1.0 - lo) * t

    # .. evaluation .........................................................................
    def _bin_sum(self, x):
        """Sum over the rows of each main bin (last axis)."""
        return np.add.reduceat(x, self._bin_start, axis=-1)

    def _pieces(self, theta, order: int):
        """T (additive part), Q (multiplicative part) and what derivatives need."""
        T = self._nom.copy()
        hw = None
        if len(self._h_idx):
            hw = code4p_weights(theta[self._h_idx])
            T += hw[0] @ self._h_up + hw[1] @ self._h_dn
        E = len(self._e_row)
        phi = np.empty(E + 1)
        phi[E] = 1.0
        phi[self._e_lin] = theta[self._e_par[self._e_lin]]
        du = None
        if len(self._u_par):
            f, df, d2f = code4(theta[self._u_par], self._u_loghi, self._u_loglo, self._u_coef)
            phi[self._e_nsys] = f[self._e_term]
            du = (df, d2f)
        F = phi[self._tab]
        if order == 0:
            return T, np.prod(F, axis=1), None
        S = F.shape[1]
        pre = np.ones((len(T), S + 1))
        suf = np.ones((len(T), S + 1))
        for s in range(S):
            pre[:, s + 1] = pre[:, s] * F[:, s]
            suf[:, S - 1 - s] = suf[:, S - s] * F[:, S - 1 - s]
        Q = pre[:, S]
        Qm_e = (pre[:, :-1] * suf[:, 1:])[self._e_row, self._e_slot]  # product of the other entries
        dphi = np.ones(E)
        d2phi = np.zeros(E)
        if du is not None:
            dphi[self._e_nsys] = du[0][self._e_term]
            d2phi[self._e_nsys] = du[1][self._e_term]
        return T, Q, (hw, Qm_e, dphi, d2phi, F)

    def expected_rows(self, theta) -> np.ndarray:
        """Expected events per (sample, bin) row (internal row order; see ``sample_rows``)."""
        T, Q, _ = self._pieces(np.asarray(theta, dtype=float), 0)
        return T * Q

    def expected_main(self, theta) -> np.ndarray:
        """Expected events per main bin (pyhf channel order): ``expected_actualdata``."""
        return self._bin_sum(self.expected_rows(theta))

    def expected_by_sample(self, theta) -> dict[tuple[str, str], np.ndarray]:
        """Expected events of each (channel, sample)."""
        lam = self.expected_rows(theta)
        return {k: lam[rows] for k, rows in self.sample_rows.items()}

    def _constraint_nll(self, theta) -> float:
        val = 0.0
        if len(self._g_idx):
            d = theta[self._g_idx] - self._g_aux
            val += 0.5 * float(np.dot(d * d, self._g_inv2)) + self._g_const
        if len(self._p_idx):
            rate = theta[self._p_idx] * self._p_fac
            val += float(np.sum(rate - xlogy(self._p_aux, rate))) + self._p_const
        return val

    def nll(self, theta) -> float:
        """-ln L(theta) with pyhf's full normalisation (= -pyhf logpdf); inf if a yield <= 0."""
        theta = np.asarray(theta, dtype=float)
        T, Q, _ = self._pieces(theta, 0)
        lam = self._bin_sum(T * Q)
        if not np.all(lam > 0) or not np.all(np.isfinite(lam)):
            return math.inf
        main = float(np.sum(lam - xlogy(self.observed, lam))) + self._main_const
        return main + self._constraint_nll(theta)

    def logpdf(self, theta) -> float:
        """ln L(theta): compare with ``pyhf.Model.logpdf(theta, data)``."""
        return -self.nll(theta)

    def nll_and_grad(self, theta):
        """(-ln L, gradient) at ``theta``."""
        out = self._evaluate(np.asarray(theta, dtype=float), hessian=False)
        return out[0], out[1]

    def nll_grad_hess(self, theta):
        """(-ln L, gradient, Hessian blocks) -- see :class:`HessianBlocks`."""
        return self._evaluate(np.asarray(theta, dtype=float), hessian=True)

    def hessian(self, theta) -> np.ndarray:
        """The exact Hessian of -ln L as a dense (npars x npars) matrix."""
        return self._evaluate(np.asarray(theta, dtype=float), hessian=True)[2].dense()

    def _evaluate(self, theta, hessian: bool):
        T, Q, (hw, Qm_e, dphi, d2phi, F) = self._pieces(theta, 1)
        lam_r = T * Q
        lam = self._bin_sum(lam_r)
        npar = self.npars
        if not np.all(lam > 0) or not np.all(np.isfinite(lam)):
            return math.inf, np.full(npar, np.nan), None
        obs = self.observed
        val = float(np.sum(lam - xlogy(obs, lam))) + self._main_const + self._constraint_nll(theta)
        G = (1.0 - obs / lam)[self._row_bin]
        er, ep = self._e_row, self._e_par
        dQ = dphi * Qm_e  # dQ_r / dtheta_p(e) for each entry e
        GT = G * T
        grad = np.bincount(ep, weights=GT[er] * dQ, minlength=npar)
        if hw is not None:
            GQ = G * Q
            hu, hd = self._h_up @ GQ, self._h_dn @ GQ
            grad[self._h_idx] += hw[2] * hu + hw[3] * hd  # histosys parameters are distinct
        if len(self._g_idx):
            grad[self._g_idx] += (theta[self._g_idx] - self._g_aux) * self._g_inv2
        if len(self._p_idx):
            th = theta[self._p_idx]
            grad[self._p_idx] += self._p_fac - np.divide(self._p_aux, th, out=np.zeros_like(th), where=self._p_aux != 0)
        if not hessian:
            return val, grad, None

        ng, nl, nb, m = len(self._glob), len(self._loc), self.nbins, self._blk
        W = obs / lam ** 2
        lpos = self._lpos
        eg, el = self._eg, self._el
        # Jacobian of the bin yields: global part (nb x ng) and local part (nl,)
        Jg = np.zeros((nb, ng))
        if hw is not None:
            DT = hw[2][:, None] * self._h_up + hw[3][:, None] * self._h_dn  # (K_h, R)
            Jg[:, self._hpos] += self._bin_sum(DT * Q).T
        Jg += _scatter(self._i_jg, T[er[eg]] * dQ[eg], Jg.shape)
        Jl = np.bincount(lpos[ep[el]], weights=T[er[el]] * dQ[el], minlength=nl)
        A = Jg.T @ (W[:, None] * Jg)
        B = Jg[self._lbin].T * (W[self._lbin] * Jl)[None, :]
        Jb = np.zeros((nb, m))
        Jb[self._lbin, self._lslot] = Jl
        D = W[:, None, None] * Jb[:, :, None] * Jb[:, None, :]
        # sum_r G_r d2(lambda_r)
        GdQ = G[er] * dQ
        if hw is not None:
            A[self._hpos, self._hpos] += hw[4] * hu + hw[5] * hd
            Sm = _scatter(self._i_sm, GdQ[eg], (ng, self.nrows))
            C = Sm @ DT.T  # (ng, K_h)
            A[:, self._hpos] += C
            A[self._hpos, :] += C.T
            if len(el):
                B += _scatter(self._i_bh, (DT[:, er[el]] * GdQ[el][None, :]).ravel(), B.shape)
        A += _scatter(self._i_adiag, GT[er[eg]] * d2phi[eg] * Qm_e[eg], A.shape)
        if len(self._pair_a):
            a, b = self._pair_a, self._pair_b
            Q2 = np.prod(np.where(self._pair_keep, F[self._pair_row], 1.0), axis=1)
            w = GT[self._pair_row] * dphi[a] * dphi[b] * Q2
            A += _scatter(self._i_pgg, w[self._pair_gg], A.shape)
            B += _scatter(self._i_pgl, w[self._pair_gl], B.shape)
            D += _scatter(self._i_pll, w[self._pair_ll], D.shape)
        # constraints (diagonal)
        if len(self._g_idx):
            self._add_diag(A, D, self._g_idx, self._cg, self._g_inv2)
        if len(self._p_idx):
            th = theta[self._p_idx]
            self._add_diag(A, D, self._p_idx, self._cp,
                           np.divide(self._p_aux, th * th, out=np.zeros_like(th), where=self._p_aux != 0))
        return val, grad, HessianBlocks(self, 0.5 * (A + A.T), B, 0.5 * (D + D.transpose(0, 2, 1)))

    def _add_diag(self, A, D, idx, is_glob, values) -> None:
        gi = self._gpos[idx[is_glob]]
        A[gi, gi] += values[is_glob]
        li = self._lpos[idx[~is_glob]]
        D[self._lbin[li], self._lslot[li], self._lslot[li]] += values[~is_glob]

    def index(self, name: str) -> int:
        """Index of a one-component parameter."""
        sl = self.par_slices[name]
        if sl.stop - sl.start != 1:
            raise InputError(f"parameter {name!r} has {sl.stop - sl.start} components")
        return sl.start


def _scatter(flat_index, values, shape) -> np.ndarray:
    """Dense array of ``shape`` with ``values`` summed at the flat indices."""
    return np.bincount(flat_index, weights=values, minlength=int(np.prod(shape))).reshape(shape)


@dataclass
class HessianBlocks:
    """The NLL Hessian in block form: global-global ``A``, global-local ``B`` and the per-bin
    local blocks ``D`` (n_bins x m x m, unused slots zero).  Local parameters are those that
    multiply the rows of a single bin linearly (MC-statistics gammas and the like)."""

    model: HistFactoryModel
    A: np.ndarray
    B: np.ndarray
    D: np.ndarray

    def dense(self) -> np.ndarray:
        """The full (npars x npars) Hessian."""
        mdl = self.model
        H = np.zeros((mdl.npars, mdl.npars))
        g, l = mdl._glob, mdl._loc
        H[np.ix_(g, g)] = self.A
        H[np.ix_(g, l)] = self.B
        H[np.ix_(l, g)] = self.B.T
        same = mdl._lbin[:, None] == mdl._lbin[None, :]
        blockvals = self.D[mdl._lbin[:, None], mdl._lslot[:, None], mdl._lslot[None, :]]
        H[np.ix_(l, l)] = np.where(same, blockvals, 0.0)
        return H

    def factorize(self, free, damping: float = 0.0) -> "BlockSolver":
        """Factorise H over the ``free`` parameters (Schur complement over the per-bin local
        blocks); ``damping`` adds damping * |diag| (Levenberg).  Raises np.linalg.LinAlgError
        if H (restricted, damped) is not positive definite."""
        mdl = self.model
        ng, nb, m = len(mdl._glob), mdl.nbins, mdl._blk
        free = np.asarray(free, dtype=bool)
        fg, fl = free[mdl._glob], free[mdl._loc]
        A = self.A.copy()
        A[~fg, :] = 0.0
        A[:, ~fg] = 0.0
        d = np.diag(A).copy()
        d[~fg] = 1.0
        if damping:
            d[fg] += damping * np.maximum(np.abs(d[fg]), 1e-8)
        A[np.diag_indices(ng)] = d
        lb, ls = mdl._lbin, mdl._lslot
        active = np.zeros((nb, m), dtype=bool)
        active[lb[fl], ls[fl]] = True  # inactive locals and unused slots become identity rows
        D = self.D * active[:, :, None] * active[:, None, :]
        dd = np.einsum("bii->bi", D).copy()
        if damping:
            dd = np.where(active, dd + damping * np.maximum(np.abs(dd), 1e-8), dd)
        D[:, np.arange(m), np.arange(m)] = np.where(active, dd, 1.0)
        np.linalg.cholesky(D)  # raises LinAlgError unless every block is positive definite
        Dinv = np.linalg.inv(D)
        Bblk = np.zeros((ng, nb, m))
        Bblk[:, lb, ls] = self.B * fg[:, None] * fl[None, :]
        Y = Dinv @ Bblk.transpose(1, 2, 0)  # (nb, m, ng) = D^-1 B^T per bin
        Bf = Bblk.reshape(ng, nb * m)
        S = A - Bf @ Y.reshape(nb * m, ng)
        L = np.linalg.cholesky(0.5 * (S + S.T))
        Linv = np.linalg.solve(L, np.eye(ng))
        return BlockSolver(mdl, fg, fl, Dinv, Y, Bf, Linv.T @ Linv)

    def solve(self, grad, free, damping: float = 0.0):
        """Solve H x = grad over the ``free`` parameters (x = 0 elsewhere).  Returns (x, S^-1),
        S^-1 being the global-global block of H^-1 (ng x ng)."""
        fac = self.factorize(free, damping)
        return fac.solve(grad), fac.Sinv


@dataclass
class BlockSolver:
    """A factorised block Hessian (see :meth:`HessianBlocks.factorize`)."""

    model: HistFactoryModel
    fg: np.ndarray
    fl: np.ndarray
    Dinv: np.ndarray
    Y: np.ndarray
    Bf: np.ndarray
    Sinv: np.ndarray

    def solve(self, grad) -> np.ndarray:
        """x with H x = grad on the free parameters, 0 on the others."""
        mdl = self.model
        lb, ls = mdl._lbin, mdl._lslot
        gg = np.where(self.fg, grad[mdl._glob], 0.0)
        glb = np.zeros(self.Dinv.shape[:2])
        glb[lb, ls] = np.where(self.fl, grad[mdl._loc], 0.0)
        yl = np.einsum("bij,bj->bi", self.Dinv, glb)
        xg = self.Sinv @ (gg - self.Bf @ yl.reshape(-1))
        xl = yl - np.einsum("bmg,g->bm", self.Y, xg)
        x = np.zeros(mdl.npars)
        x[mdl._glob] = np.where(self.fg, xg, 0.0)
        x[mdl._loc] = np.where(self.fl, xl[lb, ls], 0.0)
        return x


# --- minimisation --------------------------------------------------------------------------

@dataclass
class FitResult:
    """Outcome of :func:`minimize`: best-fit vector, NLL, evaluations, convergence measure.

    ``edm`` is the expected distance to the minimum g.H^-1.g / 2 (Newton) or MIGRAD's EDM.
    """

    x: np.ndarray
    nll: float
    nfcn: int
    edm: float
    valid: bool
    fixed: np.ndarray
    method: str = "newton"
    grad: np.ndarray | None = None  # gradient of -ln L at x (Newton only)


#: Convergence target of the Newton minimiser: expected NLL decrease g.H^-1.g/2.
NEWTON_EDM = 1e-9
#: MIGRAD tolerance for method="migrad" (EDM < 0.002 * tol * 0.5).
MIGRAD_TOL = 0.001


def _fixed_mask(model, fix):
    fixed = model.fixed.copy()
    x_fix = {}
    if fix:
        for i, v in fix.items():
            fixed[int(i)] = True
            x_fix[int(i)] = float(v)
    return fixed, x_fix


def minimize(model: HistFactoryModel, init=None, fix: dict[int, float] | None = None,
             method: str = "newton", max_iter: int = 200, edm: float = NEWTON_EDM,
             raise_on_failure: bool = True) -> FitResult:
    """Minimise the NLL over the free parameters (bounds respected).

    ``init``: starting vector (warm start), default the model's suggested initial values;
    ``fix``: {parameter index: value} held fixed in addition to the model's fixed parameters.
    ``method``: "newton" (projected Newton with the exact Hessian, default) or "migrad"
    (iminuit MIGRAD with the analytic gradient, tolerance :data:`MIGRAD_TOL`).
    Raises :class:`ConvergenceError` if the minimum is not reached.
    """
    x = np.array(model.init if init is None else init, dtype=float)
    if x.shape != (model.npars,):
        raise InputError(f"initial vector needs {model.npars} values, got shape {x.shape}")
    fixed, x_fix = _fixed_mask(model, fix)
    for i, v in x_fix.items():
        x[i] = v
    lo, hi = model.bounds[:, 0], model.bounds[:, 1]
    x = np.where(fixed, x, np.clip(x, lo, hi))
    if method == "migrad":
        res = _migrad(model, x, fixed)
    elif method == "newton":
        res = _newton(model, x, fixed, max_iter=max_iter, edm_target=edm)
    else:
        raise InputError(f"unknown minimisation method {method!r}; use 'newton' or 'migrad'")
    if raise_on_failure and not res.valid:
        raise ConvergenceError(
            f"{res.method} did not converge (edm {res.edm:.3g} after {res.nfcn} evaluations"
            + (f", fixed {sorted(x_fix)}" if x_fix else "") + ")"
        )
    return res


def _newton(model, x, fixed, max_iter, edm_target) -> FitResult:
    """Projected Newton iterations with the block-structured exact Hessian.

    Levenberg damping (added to the diagonal) while the Hessian is not positive definite,
    lowered by 100 after every full step.  The factorised Hessian is reused for further steps
    while they converge fast (a reused step needs only the gradient); it is recomputed at the
    current point when the expected decrease falls by less than a factor 5 per step, when the
    line search shortens a step, or when the set of parameters at their bounds changes.
    """
    lo, hi = model.bounds[:, 0], model.bounds[:, 1]
    f, g = model.nll_and_grad(x)
    nfcn = 1
    if not math.isfinite(f):
        return FitResult(x, f, nfcn, math.inf, False, fixed)
    damping, edm, last_edm = 0.0, math.inf, math.inf
    Hb = fac = fac_free = None
    for _ in range(max_iter):
        free = ~(fixed | ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)))
        if fac is not None and not np.array_equal(free, fac_free):
            fac = None
        if fac is None:
            if Hb is None:
                Hb = model.nll_grad_hess(x)[2]
                nfcn += 1
            try:
                fac = Hb.factorize(free, damping)
            except np.linalg.LinAlgError:
                damping = 1e-3 if damping == 0.0 else 10.0 * damping
                if damping > 1e10:
                    break
                continue
            fac_free, last_edm = free, math.inf
        step = fac.solve(g)
        edm = 0.5 * float(g @ step)
        if edm < edm_target:
            if damping == 0.0:
                return FitResult(x, f, nfcn, edm, True, fixed, grad=g)
            damping, fac = 0.0, None  # confirm with the undamped Hessian
            continue
        if edm > 0.2 * last_edm or edm < 0:  # the reused Hessian no longer converges fast
            fac = Hb = None
            continue
        last_edm = edm
        t, accepted = 1.0, False
        while t > 1e-8:
            xn = np.where(free, np.clip(x - t * step, lo, hi), x)
            fn = model.nll(xn)
            nfcn += 1
            if math.isfinite(fn) and fn <= f + 1e-4 * float(g @ (xn - x)):
                accepted = True
                break
            t *= 0.25
        if accepted:
            x, f = xn, fn
            g = model.nll_and_grad(x)[1]
            Hb = None
            if t < 1.0 or damping:
                fac = None
                if t == 1.0:
                    damping = damping * 0.01 if damping > 1e-5 else 0.0
        elif edm < 100 * edm_target and damping == 0.0:  # at the numerical precision of the NLL
            return FitResult(x, f, nfcn, edm, True, fixed, grad=g)
        else:
            damping = 1e-3 if damping == 0.0 else 10.0 * damping
            fac = None
            if damping > 1e10:
                break
    return FitResult(x, f, nfcn, edm, False, fixed, grad=g)


def _migrad(model, x0, fixed) -> FitResult:
    from iminuit import Minuit

    cache = {}

    def both(x):
        key = x.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = model.nll_and_grad(x)
        return cache[key]

    m = Minuit(lambda x: both(np.asarray(x))[0], x0, grad=lambda x: both(np.asarray(x))[1].copy(),
               name=model.par_names)
    m.errordef = Minuit.LIKELIHOOD
    m.limits = [tuple(b) for b in model.bounds]
    m.fixed = fixed
    m.tol = MIGRAD_TOL
    m.strategy = 0
    m.migrad()
    nfcn = m.nfcn
    if not m.valid:
        m.strategy = 1
        m.migrad()
        nfcn += m.nfcn
    x = np.array(m.values, dtype=float)
    val = model.nll(x)
    return FitResult(x, val, nfcn, float(m.fmin.edm), bool(m.valid) and math.isfinite(val), fixed, "migrad")


def covariance(model: HistFactoryModel, x, fixed=None, globals_only: bool = False) -> np.ndarray:
    """HESSE covariance: the inverse of the exact NLL Hessian over the free parameters.

    With -ln L (errordef 0.5) the covariance is H^-1; rows and columns of fixed parameters
    are 0.  ``globals_only``: compute only the block of the global parameters (exact, via the
    Schur complement; the rest is left 0) -- enough for the error of the POI and much
    faster.  Raises ConvergenceError if the Hessian is not positive definite.
    """
    fixed = model.fixed if fixed is None else np.asarray(fixed, bool)
    x = np.asarray(x, dtype=float)
    val, g, Hb = model.nll_grad_hess(x)
    if Hb is None:
        raise ConvergenceError("the NLL is not finite at the point where the covariance is wanted")
    C = np.zeros((model.npars, model.npars))
    try:
        if globals_only:
            _, Sinv = Hb.solve(g, ~fixed)
            gi = model._glob
            C[np.ix_(gi, gi)] = Sinv * (~fixed[gi])[:, None] * (~fixed[gi])[None, :]
            return C
        free = np.flatnonzero(~fixed)
        L = np.linalg.cholesky(Hb.dense()[np.ix_(free, free)])
    except np.linalg.LinAlgError:
        raise ConvergenceError("the Hessian at the minimum is not positive definite") from None
    inv_L = np.linalg.solve(L, np.eye(len(free)))
    C[np.ix_(free, free)] = inv_L.T @ inv_L
    return C


def numerical_hessian(model: HistFactoryModel, x, step: float = 1e-5) -> np.ndarray:
    """Hessian by central differences of the analytic gradient (for tests and checks)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    H = np.empty((n, n))
    for i in range(n):
        h = step * max(1.0, abs(x[i]))
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        H[i] = (model.nll_and_grad(xp)[1] - model.nll_and_grad(xm)[1]) / (2 * h)
    return 0.5 * (H + H.T)
