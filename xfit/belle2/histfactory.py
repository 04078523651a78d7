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

        pyhf.set_backend("numpy")
        ws = pyhf.Workspace(spec)
        model = ws.model(measurement_name=measurement)
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
        self.sample_rows: dict[tuple[str, str], np.ndarray] = {}
        hist: dict[str, dict[int, tuple[float, float]]] = {}
        rel_hist: dict[tuple[str, str], list] = {}
        entries = []  # (row, parameter, normsys term or -1 for a linear factor)
        terms: dict[tuple[int, float, float], int] = {}  # (parameter, hi, lo) -> normsys term
        r = 0
        for c, sname, data, mods in samples:
            nb = self.channel_nbins[c]
            if len(data) != nb:
                raise InputError(f"sample {sname} in {c}: {len(data)} bins, expected {nb}")
            rows = np.arange(r, r + nb)
            self.sample_rows[(c, sname)] = rows
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
        self._row_bin = np.asarray(rows_bin, int)
        self._nom = np.asarray(nom, float)
        self._agg = np.zeros((self.nbins, R))
        self._agg[self._row_bin, np.arange(R)] = 1.0

        # histosys: dense (K_h x R) variation matrices
        self._h_names = [n for n in self.par_order if n in hist]
        self._h_idx = np.array([self.par_slices[n].start for n in self._h_names], dtype=int)
        self._h_up = np.zeros((len(self._h_names), R))
        self._h_dn = np.zeros((len(self._h_names), R))
        for k, n in enumerate(self._h_names):
            for rr, (du, dd) in hist[n].items():
                self._h_up[k, rr], self._h_dn[k, rr] = du, dd
        self._rel_hist = {key: [(self._h_names.index(n), hi, lo) for n, hi, lo in v] for key, v in rel_hist.items()}

        # normsys terms
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
        self._e_row = np.array([e[0] for e in entries], dtype=int)
        self._e_par = np.array([e[1] for e in entries], dtype=int)
        term = np.array([e[2] for e in entries], dtype=int)
        self._e_lin = np.flatnonzero(term < 0)
        self._e_nsys = np.flatnonzero(term >= 0)
        self._e_term = term[self._e_nsys]
        per_row: list[list[int]] = [[] for _ in range(R)]
        for e, (rr, _, _) in enumerate(entries):
            per_row[rr].append(e)
        S = max(1, max(len(x) for x in per_row))
        tab = np.full((R, S), E, dtype=int)  # E = the padding entry (phi = 1)
        for rr, es in enumerate(per_row):
            tab[rr, :len(es)] = es
        self._tab = tab
        self._e_slot = np.empty(E, dtype=int)
        for rr, es in enumerate(per_row):
            for s, e in enumerate(es):
                self._e_slot[e] = s
        pairs = [(es[i], es[j]) for es in per_row for i in range(len(es)) for j in range(len(es)) if i != j]
        self._pair_a = np.array([p[0] for p in pairs], dtype=int)
        self._pair_b = np.array([p[1] for p in pairs], dtype=int)
        self._pair_row = self._e_row[self._pair_a] if pairs else np.zeros(0, int)
        self._pair_sa = self._e_slot[self._pair_a] if pairs else np.zeros(0, int)
        self._pair_sb = self._e_slot[self._pair_b] if pairs else np.zeros(0, int)

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
        """A shallow copy with other data (shares templates; see :meth:`set_data`)."""
        other = copy.copy(self)
        other.set_data(observed, auxdata)
        return other

    def asimov_data(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """(main, aux) expected at ``theta``: pyhf's ``expected_data`` (Asimov data set).

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
    def _pieces(self, theta, order: int):
        """T, Q and what the derivatives of order ``order`` (0, 1, 2) need."""
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
        Q = np.prod(F, axis=1)
        if order == 0:
            return T, Q, None, None, None, None
        S = F.shape[1]
        Qm = np.empty_like(F)  # product of the other entries of the row
        for s in range(S):
            Qm[:, s] = np.prod(np.delete(F, s, axis=1), axis=1) if S > 1 else 1.0
        dphi = np.ones(E)
        d2phi = np.zeros(E)
        if du is not None:
            dphi[self._e_nsys] = du[0][self._e_term]
            d2phi[self._e_nsys] = du[1][self._e_term]
        return T, Q, hw, Qm, dphi, (d2phi, F)

    def expected_rows(self, theta) -> np.ndarray:
        """Expected events per (sample, bin) row."""
        T, Q, *_ = self._pieces(np.asarray(theta, dtype=float), 0)
        return T * Q

    def expected_main(self, theta) -> np.ndarray:
        """Expected events per main bin (pyhf channel order): ``expected_actualdata``."""
        return np.bincount(self._row_bin, weights=self.expected_rows(theta), minlength=self.nbins)

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
        """-ln L(theta) with pyhf's full normalisation (= -pyhf logpdf); inf if some lambda <= 0."""
        theta = np.asarray(theta, dtype=float)
        T, Q, *_ = self._pieces(theta, 0)
        lam = np.bincount(self._row_bin, weights=T * Q, minlength=self.nbins)
        if np.any(lam <= 0) or not np.all(np.isfinite(lam)):
            return math.inf
        main = float(np.sum(lam - xlogy(self.observed, lam))) + self._main_const
        return main + self._constraint_nll(theta)

    def logpdf(self, theta) -> float:
        """ln L(theta): compare with ``pyhf.Model.logpdf(theta, data)``."""
        return -self.nll(theta)

    def nll_and_grad(self, theta, hessian: bool = False):
        """(-ln L, gradient) or, with ``hessian=True``, (-ln L, gradient, Hessian)."""
        theta = np.asarray(theta, dtype=float)
        T, Q, hw, Qm, dphi, extra = self._pieces(theta, 2 if hessian else 1)
        lam_r = T * Q
        lam = np.bincount(self._row_bin, weights=lam_r, minlength=self.nbins)
        obs = self.observed
        if np.any(lam <= 0) or not np.all(np.isfinite(lam)):
            nan = np.full(self.npars, np.nan)
            return (math.inf, nan, np.full((self.npars, self.npars), np.nan)) if hessian else (math.inf, nan)
        val = float(np.sum(lam - xlogy(obs, lam))) + self._main_const + self._constraint_nll(theta)
        Gb = 1.0 - obs / lam
        G = Gb[self._row_bin]
        npar = self.npars
        grad = np.zeros(npar)
        GQ = G * Q
        if hw is not None:
            hu, hd = self._h_up @ GQ, self._h_dn @ GQ
            np.add.at(grad, self._h_idx, hw[2] * hu + hw[3] * hd)
        er, ep = self._e_row, self._e_par
        dQ_e = dphi * Qm[er, self._e_slot]  # dQ_r / dtheta_p(e)
        grad += np.bincount(ep, weights=(G * T)[er] * dQ_e, minlength=npar)
        if len(self._g_idx):
            grad[self._g_idx] += (theta[self._g_idx] - self._g_aux) * self._g_inv2
        if len(self._p_idx):
            th = theta[self._p_idx]
            grad[self._p_idx] += self._p_fac - np.divide(self._p_aux, th, out=np.zeros_like(th), where=self._p_aux != 0)
        if not hessian:
            return val, grad

        d2phi, F = extra
        # Jacobian of the row yields, V (R x P): Q dT + T dQ
        V = np.zeros((self.nrows, npar))
        if hw is not None:
            DT = hw[2][:, None] * self._h_up + hw[3][:, None] * self._h_dn  # (K_h, R)
            V[:, self._h_idx] += (DT * Q[None, :]).T
        np.add.at(V, (er, ep), T[er] * dQ_e)
        J = self._agg @ V
        H = J.T @ ((obs / lam ** 2)[:, None] * J)
        # sum_r G_r d2 lambda_r
        if hw is not None:
            np.add.at(H, (self._h_idx, self._h_idx), hw[4] * hu + hw[5] * hd)
            Sm = np.zeros((npar, self.nrows))
            np.add.at(Sm, (ep, er), G[er] * dQ_e)
            C = Sm @ DT.T  # (P, K_h): sum_r G_r dQ_r/dtheta_p dT_r/dalpha_k
            H[:, self._h_idx] += C
            H[self._h_idx, :] += C.T
        np.add.at(H, (ep, ep), (G * T)[er] * d2phi * Qm[er, self._e_slot])
        if len(self._pair_a):
            Fp = F[self._pair_row]
            keep = np.ones_like(Fp, dtype=bool)
            idx = np.arange(len(Fp))
            keep[idx, self._pair_sa] = False
            keep[idx, self._pair_sb] = False
            Q2 = np.prod(np.where(keep, Fp, 1.0), axis=1)
            w = (G * T)[self._pair_row] * dphi[self._pair_a] * dphi[self._pair_b] * Q2
            np.add.at(H, (ep[self._pair_a], ep[self._pair_b]), w)
        if len(self._g_idx):
            H[self._g_idx, self._g_idx] += self._g_inv2
        if len(self._p_idx):
            th = theta[self._p_idx]
            H[self._p_idx, self._p_idx] += np.divide(self._p_aux, th * th, out=np.zeros_like(th), where=self._p_aux != 0)
        return val, grad, 0.5 * (H + H.T)

    def index(self, name: str) -> int:
        """Index of a one-component parameter."""
        sl = self.par_slices[name]
        if sl.stop - sl.start != 1:
            raise InputError(f"parameter {name!r} has {sl.stop - sl.start} components")
        return sl.start


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
    """Projected Newton iterations (see :func:`minimize`)."""
    lo, hi = model.bounds[:, 0], model.bounds[:, 1]
    f, g, H = model.nll_and_grad(x, hessian=True)
    nfcn = 1
    if not math.isfinite(f):
        return FitResult(x, f, nfcn, math.inf, False, fixed)
    damping, edm = 0.0, math.inf
    for _ in range(max_iter):
        free = np.flatnonzero(~(fixed | ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))))
        gf = g[free]
        Hf = H[np.ix_(free, free)]
        if damping:
            Hf = Hf + damping * np.diag(np.maximum(np.abs(np.diag(Hf)), 1e-8))
        try:
            L = np.linalg.cholesky(Hf)
        except np.linalg.LinAlgError:
            damping = max(1e-3, 10.0 * damping)
            if damping > 1e10:
                break
            continue
        z = np.linalg.solve(L, gf)
        edm = 0.5 * float(z @ z)
        if edm < edm_target:
            return FitResult(x, f, nfcn, edm, True, fixed)
        step = -np.linalg.solve(L.T, z)
        t, accepted = 1.0, False
        while t > 1e-8:
            xn = x.copy()
            xn[free] = np.clip(x[free] + t * step, lo[free], hi[free])
            fn, gn, Hn = model.nll_and_grad(xn, hessian=True)
            nfcn += 1
            if math.isfinite(fn) and fn <= f + 1e-4 * float(gf @ (xn[free] - x[free])):
                accepted = True
                break
            t *= 0.25
        if accepted:
            x, f, g, H = xn, fn, gn, Hn
            damping = damping * 0.1 if damping > 1e-6 else 0.0
        elif edm < 100 * edm_target:  # at the precision limit of the NLL
            return FitResult(x, f, nfcn, edm, True, fixed)
        else:
            damping = max(1e-3, 10.0 * damping)
            if damping > 1e10:
                break
    return FitResult(x, f, nfcn, edm, False, fixed)


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


def covariance(model: HistFactoryModel, x, fixed=None) -> np.ndarray:
    """HESSE covariance: the inverse of the exact NLL Hessian over the free parameters.

    With -ln L (errordef 0.5) the covariance is H^-1; rows and columns of fixed parameters
    are 0.  Raises ConvergenceError if the Hessian is not positive definite.
    """
    fixed = model.fixed if fixed is None else np.asarray(fixed, bool)
    free = np.flatnonzero(~fixed)
    H = model.nll_and_grad(x, hessian=True)[2][np.ix_(free, free)]
    try:
        L = np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        raise ConvergenceError("the Hessian at the minimum is not positive definite") from None
    inv_L = np.linalg.solve(L, np.eye(len(free)))
    C = np.zeros((model.npars, model.npars))
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
