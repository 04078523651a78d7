"""Compiled (numba) kernel: -ln L, gradient, Hessian blocks and the block factorisation.

The same quantities as :mod:`.evaluate` and :meth:`.blocks.HessianBlocks.factorize` (same
formulas, see their docstrings), computed by loops over the compiled index arrays of
:mod:`.compile` in one compiled call each, so that a Newton step costs O(1) Python calls
instead of ~150 numpy dispatches.  Results agree with the numpy path to rounding (the order of
the sums differs); ``tests/histfactory/test_kernel_numba.py`` checks both against each other.

Interpolation: the numpy path evaluates histosys code4p and normsys code4 vectorised over all
terms (a matrix product of the powers of alpha with coefficient tables); a compiled loop wants
them per scalar.  The polynomials are not restated here: both forms evaluate the same tables
(``histosys._CODE4P_POLY``, the model's ``normsys_table`` from ``normsys.code4_table``), passed
in as arguments.  Only the continuation beyond |alpha| = 1 is written in scalar form
(:func:`code4p_scalar`, :func:`code4_scalar`); the test checks them against the vectorised
functions to 1e-14.  Other interpolation codes take the numpy path.

Not covered (numpy path for that call): interpolation codes other than code4 / code4p, and the
factorisation where a local block is not diagonal plus rank one or a damped diagonal is not > 0.

numba is imported only by this module, which only :func:`.kernel.make` imports; its compiled
functions are cached on disk (``NUMBA_CACHE_DIR``, default ``$XDG_CACHE_HOME/xfit/numba`` unless
the user set it).
"""
from __future__ import annotations

import math
import os

import numpy as np

from ..datasets.registry import cache_root

os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_root() / "numba"))

from numba import njit  # noqa: E402  (after NUMBA_CACHE_DIR is set)

from .blocks import BlockSolver, HessianBlocks  # noqa: E402
from .histosys import _CODE4P_POLY  # noqa: E402

#: interpolation codes the kernel covers
SUPPORTED_CODES = {"normsys": "code4", "histosys": "code4p"}


@njit(cache=True)
def _poly(table, i, a):
    """sum_j table[i, j] a^j (Horner)."""
    v = 0.0
    for j in range(table.shape[1] - 1, -1, -1):
        v = v * a + table[i, j]
    return v


@njit(cache=True)
def code4p_scalar(alpha, poly):
    """histosys code4p weights (w_up, w_dn, w_up', w_dn', w_up'', w_dn'') of one alpha from the
    coefficient table ``poly`` (``histosys._CODE4P_POLY``): the polynomial inside +-1, its linear
    continuation beyond (second derivatives 0), as :func:`.histosys.code4p`."""
    ac = min(max(alpha, -1.0), 1.0)
    up, dn = _poly(poly, 0, ac), _poly(poly, 1, ac)
    dup, ddn = _poly(poly, 2, ac), _poly(poly, 3, ac)
    beyond = alpha - ac
    if beyond != 0.0:
        return up + dup * beyond, dn + ddn * beyond, dup, ddn, 0.0, 0.0
    return up, dn, dup, ddn, _poly(poly, 4, ac), _poly(poly, 5, ac)


@njit(cache=True)
def code4_scalar(alpha, log_hi, log_lo, table, u):
    """normsys code4 (f, f', f'') of term ``u`` at one alpha: the polynomial of ``table``
    (3, U, 7) inside |alpha| < 1, exp(alpha * slope) beyond, as :func:`.normsys.code4`."""
    if abs(alpha) >= 1.0:
        slope = log_hi if alpha > 0.0 else -log_lo
        e = math.exp(alpha * slope)
        return e, slope * e, slope * slope * e
    f = df = d2f = 0.0
    for j in range(6, -1, -1):
        f = f * alpha + table[0, u, j]
        df = df * alpha + table[1, u, j]
        d2f = d2f * alpha + table[2, u, j]
    return f, df, d2f


@njit(cache=True)
def _xlogy(x, y):
    return 0.0 if x == 0.0 else x * math.log(y)


@njit(cache=True)
def _evaluate(theta, order, nominal, histo_up, histo_dn, histo_param, poly, normsys_param, log_hi, log_lo,
              table, entry_param, entry_row, entry_slot, entry_term, row_entries, row_bin, obs, main_const,
              gauss_param, gauss_aux, gauss_inv_var, gauss_const, pois_param, pois_aux, pois_factor, pois_const,
              global_pos, local_pos, local_bin, local_slot, ng, m, histo_gpos, pair_first, pair_second, pair_row):
    """(valid, -ln L, gradient, A, B, D, delta, W, Jb, rank_one).  ``order``: 1 value and
    gradient (the Hessian arrays are empty), 2 with the exact Hessian blocks, 3 with their
    Gauss-Newton part (see :mod:`.evaluate`)."""
    npar = theta.shape[0]
    R = nominal.shape[0]
    K = histo_param.shape[0]
    U = normsys_param.shape[0]
    E = entry_param.shape[0]
    S = row_entries.shape[1]
    nb = obs.shape[0]
    nl = local_bin.shape[0]
    # interpolation
    hw = np.empty((6, K))
    for k in range(K):
        w = code4p_scalar(theta[histo_param[k]], poly)
        for i in range(6):
            hw[i, k] = w[i]
    fu = np.empty((3, U))
    for u in range(U):
        f = code4_scalar(theta[normsys_param[u]], log_hi[u], log_lo[u], table, u)
        fu[0, u], fu[1, u], fu[2, u] = f[0], f[1], f[2]
    # rows: T (additive), factors phi, Q (product)
    T = nominal.copy()
    for k in range(K):
        wu, wd = hw[0, k], hw[1, k]
        for r in range(R):
            T[r] += wu * histo_up[k, r] + wd * histo_dn[k, r]
    phi = np.empty(E + 1)
    dphi = np.ones(E)
    d2phi = np.zeros(E)
    phi[E] = 1.0
    nonzero = True
    for e in range(E):
        t = entry_term[e]
        if t < 0:
            phi[e] = theta[entry_param[e]]
        else:
            phi[e], dphi[e], d2phi[e] = fu[0, t], fu[1, t], fu[2, t]
        if phi[e] == 0.0:
            nonzero = False
    Q = np.empty(R)
    for r in range(R):
        q = phi[row_entries[r, 0]]
        for s in range(1, S):
            q *= phi[row_entries[r, s]]
        Q[r] = q
    lam = np.zeros(nb)
    for r in range(R):
        lam[row_bin[r]] += T[r] * Q[r]
    grad = np.empty(npar)
    empty2 = np.zeros((0, 0))
    empty3 = np.zeros((0, 0, 0))
    for b in range(nb):
        if not (math.isfinite(lam[b]) and (lam[b] > 0.0 or (lam[b] == 0.0 and obs[b] == 0.0))):
            grad[:] = np.nan
            return False, math.inf, grad, empty2, empty2, empty3, empty2, np.zeros(0), empty2, True
    main = 0.0
    for b in range(nb):
        main += lam[b] - _xlogy(obs[b], lam[b])
    cons = 0.0
    if gauss_param.shape[0]:
        acc = 0.0
        for i in range(gauss_param.shape[0]):
            d = theta[gauss_param[i]] - gauss_aux[i]
            acc += d * d * gauss_inv_var[i]
        cons += 0.5 * acc + gauss_const
    if pois_param.shape[0]:
        acc = 0.0
        for i in range(pois_param.shape[0]):
            rate = theta[pois_param[i]] * pois_factor[i]
            acc += rate - _xlogy(pois_aux[i], rate)
        cons += acc + pois_const
    val = main + main_const + cons
    # gradient
    G = np.empty(nb)
    for b in range(nb):
        G[b] = 1.0 - (0.0 if obs[b] == 0.0 else obs[b] / lam[b])
    Qm = np.empty(E)  # product of the other factors of the entry's row
    for e in range(E):
        r = entry_row[e]
        if nonzero:
            Qm[e] = Q[r] / phi[e]
        else:
            q = 1.0
            for s in range(S):
                if s != entry_slot[e]:
                    q *= phi[row_entries[r, s]]
            Qm[e] = q
    grad[:] = 0.0
    GT = np.empty(R)
    GQ = np.empty(R)
    for r in range(R):
        GT[r] = G[row_bin[r]] * T[r]
        GQ[r] = G[row_bin[r]] * Q[r]
    dQ = np.empty(E)
    for e in range(E):
        dQ[e] = dphi[e] * Qm[e]
        grad[entry_param[e]] += GT[entry_row[e]] * dQ[e]
    hu = np.zeros(K)
    hd = np.zeros(K)
    for k in range(K):
        su = 0.0
        sd = 0.0
        for r in range(R):
            su += histo_up[k, r] * GQ[r]
            sd += histo_dn[k, r] * GQ[r]
        hu[k], hd[k] = su, sd
        grad[histo_param[k]] += hw[2, k] * su + hw[3, k] * sd
    for i in range(gauss_param.shape[0]):
        p = gauss_param[i]
        grad[p] += (theta[p] - gauss_aux[i]) * gauss_inv_var[i]
    for i in range(pois_param.shape[0]):
        p = pois_param[i]
        grad[p] += pois_factor[i] - (0.0 if pois_aux[i] == 0.0 else pois_aux[i] / theta[p])
    if order == 1:
        return True, val, grad, empty2, empty2, empty3, empty2, np.zeros(0), empty2, True
    # Hessian blocks
    W = np.empty(nb)
    for b in range(nb):
        W[b] = 0.0 if obs[b] == 0.0 else obs[b] / (lam[b] * lam[b])
    DT = np.empty((K, R))
    for k in range(K):
        for r in range(R):
            DT[k, r] = hw[2, k] * histo_up[k, r] + hw[3, k] * histo_dn[k, r]
    Jg = np.zeros((nb, ng))
    for k in range(K):
        g = histo_gpos[k]
        for r in range(R):
            Jg[row_bin[r], g] += DT[k, r] * Q[r]
    Jl = np.zeros(nl)
    for e in range(E):
        p = entry_param[e]
        r = entry_row[e]
        if global_pos[p] >= 0:
            Jg[row_bin[r], global_pos[p]] += T[r] * dQ[e]
        else:
            Jl[local_pos[p]] += T[r] * dQ[e]
    Jb = np.zeros((nb, m))
    for j in range(nl):
        Jb[local_bin[j], local_slot[j]] = Jl[j]
    D = np.zeros((nb, m, m))
    for b in range(nb):
        for i in range(m):
            for j in range(m):
                D[b, i, j] = W[b] * Jb[b, i] * Jb[b, j]
    B = np.empty((ng, nl))
    for j in range(nl):
        b = local_bin[j]
        wj = W[b] * Jl[j]
        for g in range(ng):
            B[g, j] = Jg[b, g] * wj
    WJ = np.empty((nb, ng))
    for b in range(nb):
        for g in range(ng):
            WJ[b, g] = W[b] * Jg[b, g]
    A = Jg.T @ WJ
    rank_one = True
    if order == 2:
        for e in range(E):
            p = entry_param[e]
            r = entry_row[e]
            gp = global_pos[p]
            if gp >= 0:
                A[gp, gp] += GT[r] * d2phi[e] * Qm[e]
            GdQ = G[row_bin[r]] * dQ[e]
            for k in range(K):
                x = DT[k, r] * GdQ
                h = histo_gpos[k]
                if gp >= 0:
                    A[h, gp] += x
                    A[gp, h] += x
                else:
                    B[h, local_pos[p]] += x
        for k in range(K):
            h = histo_gpos[k]
            A[h, h] += hw[4, k] * hu[k] + hw[5, k] * hd[k]
        for i in range(pair_first.shape[0]):
            a, b2 = pair_first[i], pair_second[i]
            r = pair_row[i]
            if nonzero:
                q2 = Qm[a] / phi[b2]
            else:
                q2 = 1.0
                for s in range(S):
                    if s != entry_slot[a] and s != entry_slot[b2]:
                        q2 *= phi[row_entries[r, s]]
            w = GT[r] * dphi[a] * dphi[b2] * q2
            pa, pb = entry_param[a], entry_param[b2]
            ga, gb = global_pos[pa], global_pos[pb]
            if ga >= 0 and gb >= 0:
                A[ga, gb] += w
            elif ga >= 0:
                B[ga, local_pos[pb]] += w
            elif gb < 0:
                la, lb = local_pos[pa], local_pos[pb]
                D[local_bin[la], local_slot[la], local_slot[lb]] += w
                rank_one = False
    # constraints (diagonal)
    delta = np.zeros((nb, m))
    for i in range(gauss_param.shape[0] + pois_param.shape[0]):
        if i < gauss_param.shape[0]:
            p = gauss_param[i]
            v = gauss_inv_var[i]
        else:
            j = i - gauss_param.shape[0]
            p = pois_param[j]
            v = 0.0 if pois_aux[j] == 0.0 else pois_aux[j] / (theta[p] * theta[p])
        if global_pos[p] >= 0:
            A[global_pos[p], global_pos[p]] += v
        else:
            lp = local_pos[p]
            D[local_bin[lp], local_slot[lp], local_slot[lp]] += v
            delta[local_bin[lp], local_slot[lp]] += v
    As = 0.5 * (A + A.T)
    for b in range(nb):
        D[b] = 0.5 * (D[b] + D[b].T)
    return True, val, grad, As, B, D, delta, W, Jb, rank_one


@njit(cache=True)
def _evaluate_many(thetas, nominal, histo_up, histo_dn, histo_param, poly, normsys_param, log_hi, log_lo,
                   table, entry_param, entry_row, entry_slot, entry_term, row_entries, row_bin, obs, main_const,
                   gauss_param, gauss_aux, gauss_inv_var, gauss_const, pois_param, pois_aux, pois_factor,
                   pois_const, global_pos, local_pos, local_bin, local_slot, ng, m, histo_gpos, pair_first,
                   pair_second, pair_row):
    """(-ln L, gradient) of each row of ``thetas``: :func:`_evaluate` with order 1 per row."""
    n = thetas.shape[0]
    vals = np.empty(n)
    grads = np.empty(thetas.shape)
    for w in range(n):
        out = _evaluate(thetas[w], 1, nominal, histo_up, histo_dn, histo_param, poly, normsys_param, log_hi,
                        log_lo, table, entry_param, entry_row, entry_slot, entry_term, row_entries, row_bin, obs,
                        main_const, gauss_param, gauss_aux, gauss_inv_var, gauss_const, pois_param, pois_aux,
                        pois_factor, pois_const, global_pos, local_pos, local_bin, local_slot, ng, m, histo_gpos,
                        pair_first, pair_second, pair_row)
        vals[w] = out[1]
        grads[w] = out[2]
    return vals, grads


@njit(cache=True)
def _factorize(A, B, delta, w, u, fg, fl, damping, local_bin, local_slot, slot_used):
    """(status, Dinv, Y, Bf, S^-1) as :meth:`.blocks.HessianBlocks.factorize` with rank-one local
    blocks D_b = diag(delta_b) + w_b u_b u_b^T; status 0 success, 1 a damped diagonal not > 0
    (not covered: numpy path), 2 the Schur complement is not positive definite."""
    ng = A.shape[0]
    nb, m = delta.shape
    nl = local_bin.shape[0]
    all_g = True
    for g in range(ng):
        if not fg[g]:
            all_g = False
    all_l = True
    for j in range(nl):
        if not fl[j]:
            all_l = False
    A2 = A.copy()
    if not all_g or damping != 0.0:
        for g in range(ng):
            if not fg[g]:
                A2[g, :] = 0.0
                A2[:, g] = 0.0
        for g in range(ng):
            d = A2[g, g]
            if not fg[g]:
                d = 1.0
            elif damping != 0.0:
                d += damping * max(abs(d), 1e-8)
            A2[g, g] = d
    active = np.zeros((nb, m), dtype=np.bool_)
    if all_l:
        active[:, :] = slot_used
    else:
        for j in range(nl):
            if fl[j]:
                active[local_bin[j], local_slot[j]] = True
    Dinv = np.zeros((nb, m, m))
    vb = np.empty((nb, m))
    dlb = np.empty((nb, m))
    sb = np.empty(nb)
    uu = np.empty(m)
    for b in range(nb):
        for i in range(m):
            uu[i] = u[b, i] if active[b, i] else 0.0
            di = delta[b, i]
            if damping != 0.0:
                di = di + damping * max(abs(delta[b, i] + w[b] * uu[i] * uu[i]), 1e-8)
            dlb[b, i] = di if active[b, i] else 1.0
            if not dlb[b, i] > 0.0:
                return 1, Dinv, np.zeros((nb, m, ng)), np.zeros((ng, nb * m)), np.zeros((ng, ng))
        uv = 0.0
        for i in range(m):
            vb[b, i] = uu[i] / dlb[b, i]
            uv += uu[i] * vb[b, i]
        s = w[b] / (1.0 + w[b] * uv)
        sb[b] = s
        for i in range(m):
            for j in range(m):
                Dinv[b, i, j] = vb[b, i] * (-s * vb[b, j])
            Dinv[b, i, i] += 1.0 / dlb[b, i]
    Bt = np.zeros((nb * m, ng))  # B^T in block layout
    for j in range(nl):
        col = local_bin[j] * m + local_slot[j]
        keep = (all_g and all_l) or fl[j]
        for g in range(ng):
            Bt[col, g] = B[g, j] if keep and (all_g or fg[g]) else 0.0
    # Y_b = D_b^-1 B_b^T = diag(1/dl) B_b^T - s_b v_b z_b^T with z_b = B_b v_b (Sherman-Morrison)
    Y = np.empty((nb, m, ng))
    z = np.empty(ng)
    for b in range(nb):
        s = sb[b]
        z[:] = 0.0
        for j in range(m):
            vj = vb[b, j]
            if vj != 0.0:
                for g in range(ng):
                    z[g] += vj * Bt[b * m + j, g]
        for i in range(m):
            ci = 1.0 / dlb[b, i]
            si = s * vb[b, i]
            for g in range(ng):
                Y[b, i, g] = Bt[b * m + i, g] * ci - si * z[g]
    Bf = np.ascontiguousarray(Bt.T)
    Sm = A2 - Bf @ Y.reshape(nb * m, ng)
    Sm = 0.5 * (Sm + Sm.T)
    # Cholesky S = L L^T
    L = np.zeros((ng, ng))
    for j in range(ng):
        d = Sm[j, j]
        for k in range(j):
            d -= L[j, k] * L[j, k]
        if not d > 0.0:
            return 2, Dinv, Y, Bf, L
        ljj = math.sqrt(d)
        L[j, j] = ljj
        for i in range(j + 1, ng):
            x = Sm[i, j]
            for k in range(j):
                x -= L[i, k] * L[j, k]
            L[i, j] = x / ljj
    # L^-1 row by row (lower triangular), then S^-1 = L^-T L^-1
    Li = np.zeros((ng, ng))
    for i in range(ng):
        for k in range(i):
            lik = L[i, k]
            for j in range(k + 1):
                Li[i, j] -= lik * Li[k, j]
        c = 1.0 / L[i, i]
        for j in range(i):
            Li[i, j] *= c
        Li[i, i] = c
    return 0, Dinv, Y, Bf, Li.T @ Li


class NumbaKernel:
    """The compiled kernel of one model (shared by the copies made with ``with_data``): the static
    index arrays, ready for the compiled functions."""

    def __init__(self, model):
        c = model.compiled
        self.supported = dict(model.interpolation_codes) == SUPPORTED_CODES
        E = len(c.entry_row)
        term = np.full(E, -1, dtype=np.int64)
        term[c.entry_normsys] = c.entry_term
        i64 = np.int64

        def ints(a):
            return np.ascontiguousarray(a, dtype=i64)

        self._interp = (ints(c.histo_param), np.ascontiguousarray(_CODE4P_POLY), ints(c.normsys_param),
                        np.ascontiguousarray(c.normsys_log_hi, float), np.ascontiguousarray(c.normsys_log_lo, float),
                        np.ascontiguousarray(c.normsys_table, float))
        self._entries = (ints(c.entry_param), ints(c.entry_row), ints(c.entry_slot), term, ints(c.row_entries),
                         ints(c.row_bin))
        self._blocks = (ints(c.global_pos), ints(c.local_pos), ints(c.local_bin), ints(c.local_slot),
                        len(c.global_params), int(c.block_size), ints(c.histo_gpos), ints(c.pair_first),
                        ints(c.pair_second), ints(c.pair_row))
        self._slot_used = np.ascontiguousarray(c.slot_used)

    def _args(self, model):
        cons = model.constraints
        return (np.ascontiguousarray(model._nominal, float), np.ascontiguousarray(model._histo_up, float),
                np.ascontiguousarray(model._histo_dn, float), *self._interp, *self._entries,
                model.observed, model._main_const,
                cons.gauss_param.astype(np.int64, copy=False), cons.gauss_aux, cons.gauss_inv_var, cons.gauss_const,
                cons.pois_param.astype(np.int64, copy=False), cons.pois_aux, cons.pois_factor, cons.pois_const,
                *self._blocks)

    def evaluate(self, model, theta, order: int):
        """(-ln L, gradient, HessianBlocks or None) as :func:`.evaluate.evaluate` (``order`` 1:
        no Hessian, 2: exact Hessian, 3: its Gauss-Newton part); None if not covered."""
        if not self.supported:
            return None
        ok, val, grad, A, B, D, delta, W, Jb, rank_one = _evaluate(
            np.ascontiguousarray(theta, dtype=float), order, *self._args(model))
        if order == 1 or not ok:
            return val, grad, None
        return val, grad, HessianBlocks(model, A, B, D, (delta, W, Jb) if rank_one else None)

    def nll_and_grad_many(self, model, thetas):
        """(-ln L, gradient) of each row of ``thetas`` (W, npars); None if not covered."""
        if not self.supported:
            return None
        return _evaluate_many(np.ascontiguousarray(thetas, dtype=float), *self._args(model))

    def factorize(self, blocks: HessianBlocks, free, damping: float):
        """The :class:`.blocks.BlockSolver` of ``blocks`` over ``free``; None if not covered (blocks
        that are not diagonal plus rank one, or a damped diagonal not > 0).  Raises
        np.linalg.LinAlgError if the Schur complement is not positive definite."""
        if blocks.rank_one is None:
            return None
        c = blocks.model.compiled
        delta, w, u = blocks.rank_one
        free = np.asarray(free, dtype=bool)
        fg, fl = free[c.global_params], free[c.local_params]
        status, Dinv, Y, Bf, Sinv = _factorize(blocks.A, blocks.B, delta, w, u, fg, fl, float(damping),
                                               self._blocks[2], self._blocks[3], self._slot_used)
        if status == 1:
            return None
        if status == 2:
            raise np.linalg.LinAlgError("the Schur complement is not positive definite")
        return BlockSolver(blocks.model, fg, fl, Dinv, Y, Bf, Sinv)
