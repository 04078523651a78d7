"""Compiled (numba) kernel: -ln L, gradient, Hessian blocks, block factorisation and solve.

The same quantities as :mod:`.evaluate` and :meth:`.blocks.HessianBlocks.factorize` (same
formulas, see their docstrings), computed by loops over the compiled index arrays of
:mod:`.compile` in one compiled call each, so that a Newton step costs O(1) Python calls
instead of ~150 numpy dispatches.  Results agree with the numpy path to rounding (the order of
the sums differs); ``tests/histfactory/test_kernel_numba.py`` checks both against each other.
The Hessian takes the first-order pieces of the last gradient at the same point from a
workspace that belongs to the model object and the calling thread (as the numpy path's
``_eval_cache``).

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
import threading

import numpy as np

from ..datasets.registry import cache_root

os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_root() / "numba"))

from numba import njit, types  # noqa: E402  (after NUMBA_CACHE_DIR is set)

from . import blocks as blocks_module  # noqa: E402
from .blocks import BlockSolver, HessianBlocks  # noqa: E402
from .histosys import _CODE4P_POLY  # noqa: E402

#: interpolation codes the kernel covers
SUPPORTED_CODES = {"normsys": "code4", "histosys": "code4p"}


@njit(cache=True, error_model="numpy")
def _poly(table, i, a):
    """sum_j table[i, j] a^j (Horner)."""
    v = 0.0
    for j in range(table.shape[1] - 1, -1, -1):
        v = v * a + table[i, j]
    return v


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def _xlogy(x, y):
    return 0.0 if x == 0.0 else x * math.log(y)


@njit(cache=True, error_model="numpy")
def _first_order(theta, nominal, hup, hdn, histo_param, poly, hrow_start, hrow_k, normsys_param, log_hi,
                 log_lo, table, entry_param, entry_row, entry_slot, entry_term, row_entries, row_bin, obs,
                 main_const, gauss_param, gauss_aux, gauss_inv_var, gauss_const, pois_param, pois_aux, pois_factor,
                 pois_const, hw, T, Q, phi, dphi, d2phi, Qm, lam, G, hu, hd):
    """(valid, -ln L, gradient, no factor is 0); the pieces the Hessian needs (see
    :mod:`.evaluate`) are written into the workspace arrays ``hw`` ... ``hd``.  Histosys
    variations are visited through the rows' lists of variations that can be non-zero
    (``hrow_start``, ``hrow_k``, CSR); ``hup``, ``hdn`` are hi - nom and nom - lo there."""
    npar = theta.shape[0]
    R = nominal.shape[0]
    K = histo_param.shape[0]
    U = normsys_param.shape[0]
    E = entry_param.shape[0]
    S = row_entries.shape[1]
    nb = obs.shape[0]
    # interpolation
    for k in range(K):
        w = code4p_scalar(theta[histo_param[k]], poly)
        for i in range(6):
            hw[i, k] = w[i]
    fu = np.empty((3, U))
    for u in range(U):
        f = code4_scalar(theta[normsys_param[u]], log_hi[u], log_lo[u], table, u)
        fu[0, u], fu[1, u], fu[2, u] = f[0], f[1], f[2]
    # rows: T (additive), factors phi, Q (product)
    for r in range(R):
        t = nominal[r]
        for i in range(hrow_start[r], hrow_start[r + 1]):
            k = hrow_k[i]
            t += hw[0, k] * hup[i] + hw[1, k] * hdn[i]
        T[r] = t
    dphi[:] = 1.0
    d2phi[:] = 0.0
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
    for r in range(R):
        q = phi[row_entries[r, 0]]
        for s in range(1, S):
            q *= phi[row_entries[r, s]]
        Q[r] = q
    lam[:] = 0.0
    for r in range(R):
        lam[row_bin[r]] += T[r] * Q[r]
    grad = np.empty(npar)
    hu[:] = 0.0
    hd[:] = 0.0
    for b in range(nb):
        if not (math.isfinite(lam[b]) and (lam[b] > 0.0 or (lam[b] == 0.0 and obs[b] == 0.0))):
            grad[:] = np.nan
            return False, math.inf, grad, nonzero
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
    for b in range(nb):
        G[b] = 1.0 - (0.0 if obs[b] == 0.0 else obs[b] / lam[b])
    for e in range(E):  # product of the other factors of the entry's row
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
    for e in range(E):
        r = entry_row[e]
        grad[entry_param[e]] += G[row_bin[r]] * T[r] * (dphi[e] * Qm[e])
    for r in range(R):
        gq = G[row_bin[r]] * Q[r]
        for i in range(hrow_start[r], hrow_start[r + 1]):
            k = hrow_k[i]
            hu[k] += hup[i] * gq
            hd[k] += hdn[i] * gq
    for k in range(K):
        grad[histo_param[k]] += hw[2, k] * hu[k] + hw[3, k] * hd[k]
    for i in range(gauss_param.shape[0]):
        p = gauss_param[i]
        grad[p] += (theta[p] - gauss_aux[i]) * gauss_inv_var[i]
    for i in range(pois_param.shape[0]):
        p = pois_param[i]
        grad[p] += pois_factor[i] - (0.0 if pois_aux[i] == 0.0 else pois_aux[i] / theta[p])
    return True, val, grad, nonzero


@njit(cache=True, error_model="numpy")
def _value_grad(thetas, nominal, hup, hdn, histo_param, poly, hrow_start, hrow_k, normsys_param,
                log_hi, log_lo, table, entry_param, entry_row, entry_slot, entry_term, row_entries, row_bin, obs,
                main_const, gauss_param, gauss_aux, gauss_inv_var, gauss_const, pois_param, pois_aux,
                pois_factor, pois_const, hw, T, Q, phi, dphi, d2phi, Qm, lam, G, hu, hd):
    """(-ln L, gradient) of each row of ``thetas`` (inf and NaN where a bin yield is not valid),
    and whether no factor is 0 at the last row, whose first-order pieces stay in the workspace."""
    n = thetas.shape[0]
    vals = np.empty(n)
    grads = np.empty(thetas.shape)
    nonzero = True
    for w in range(n):
        out = _first_order(thetas[w], nominal, hup, hdn, histo_param, poly, hrow_start, hrow_k,
                           normsys_param, log_hi, log_lo, table, entry_param, entry_row, entry_slot, entry_term,
                           row_entries, row_bin, obs, main_const, gauss_param, gauss_aux, gauss_inv_var, gauss_const,
                           pois_param, pois_aux, pois_factor, pois_const, hw, T, Q, phi, dphi, d2phi, Qm, lam, G,
                           hu, hd)
        vals[w] = out[1]
        grads[w] = out[2]
        nonzero = out[3]
    return vals, grads, nonzero


@njit(cache=True, error_model="numpy")
def _hessian(theta, second_order, nonzero, nominal, hup, hdn, histo_param, poly, hrow_start,
             hrow_k, normsys_param, log_hi, log_lo, table, entry_param, entry_row, entry_slot, entry_term,
             row_entries, row_bin, obs, main_const, gauss_param, gauss_aux, gauss_inv_var, gauss_const, pois_param,
             pois_aux, pois_factor, pois_const, hw, T, Q, phi, dphi, d2phi, Qm, lam, G, hu, hd, global_pos,
             local_pos, local_bin, local_slot, ng, m, histo_gpos, pair_first, pair_second, pair_row):
    """(A, B, D, delta, W, Jb, rank_one): the Hessian blocks of :func:`.evaluate._hessian`
    (without the terms weighted by G unless ``second_order``) at ``theta``, a valid point whose
    first-order pieces are in the workspace (``hw`` ... ``hd``, from :func:`_value_grad`;
    ``nonzero``: no factor is 0 there)."""
    R = nominal.shape[0]
    E = entry_param.shape[0]
    S = row_entries.shape[1]
    nb = obs.shape[0]
    nl = local_bin.shape[0]
    W = np.empty(nb)
    for b in range(nb):
        W[b] = 0.0 if obs[b] == 0.0 else obs[b] / (lam[b] * lam[b])
    # d T_r / d alpha_k at the listed (row, variation) pairs
    DT = np.empty(hrow_k.shape[0])
    Jg = np.zeros((nb, ng))
    for r in range(R):
        for i in range(hrow_start[r], hrow_start[r + 1]):
            k = hrow_k[i]
            DT[i] = hw[2, k] * hup[i] + hw[3, k] * hdn[i]
            Jg[row_bin[r], histo_gpos[k]] += DT[i] * Q[r]
    Jl = np.zeros(nl)
    for e in range(E):
        p = entry_param[e]
        r = entry_row[e]
        if global_pos[p] >= 0:
            Jg[row_bin[r], global_pos[p]] += T[r] * (dphi[e] * Qm[e])
        else:
            Jl[local_pos[p]] += T[r] * (dphi[e] * Qm[e])
    Jb = np.zeros((nb, m))
    for j in range(nl):
        Jb[local_bin[j], local_slot[j]] = Jl[j]
    D = np.empty((nb, m, m))
    for b in range(nb):
        for i in range(m):
            wi = W[b] * Jb[b, i]
            for j in range(i + 1):
                D[b, i, j] = wi * Jb[b, j]
                D[b, j, i] = D[b, i, j]
    wJl = np.empty(nl)
    for j in range(nl):
        wJl[j] = W[local_bin[j]] * Jl[j]
    JgT = np.ascontiguousarray(Jg.T)
    B = np.empty((ng, nl))
    for g in range(ng):
        for j in range(nl):
            B[g, j] = JgT[g, local_bin[j]] * wJl[j]
    WJ = np.empty((nb, ng))
    for b in range(nb):
        for g in range(ng):
            WJ[b, g] = W[b] * Jg[b, g]
    A = Jg.T @ WJ
    rank_one = True
    if second_order:
        for e in range(E):
            p = entry_param[e]
            r = entry_row[e]
            gp = global_pos[p]
            if gp >= 0:
                A[gp, gp] += G[row_bin[r]] * T[r] * d2phi[e] * Qm[e]
            GdQ = G[row_bin[r]] * (dphi[e] * Qm[e])
            for i in range(hrow_start[r], hrow_start[r + 1]):
                x = DT[i] * GdQ
                h = histo_gpos[hrow_k[i]]
                if gp >= 0:
                    A[h, gp] += x
                    A[gp, h] += x
                else:
                    B[h, local_pos[p]] += x
        for k in range(hw.shape[1]):
            h = histo_gpos[k]
            A[h, h] += hw[4, k] * hu[k] + hw[5, k] * hd[k]
        for i in range(pair_first.shape[0]):
            a, a2 = pair_first[i], pair_second[i]
            r = pair_row[i]
            if nonzero:
                q2 = Qm[a] / phi[a2]
            else:
                q2 = 1.0
                for s in range(S):
                    if s != entry_slot[a] and s != entry_slot[a2]:
                        q2 *= phi[row_entries[r, s]]
            w = G[row_bin[r]] * T[r] * dphi[a] * dphi[a2] * q2
            pa, pb = entry_param[a], entry_param[a2]
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
    if not rank_one:
        for b in range(nb):
            D[b] = 0.5 * (D[b] + D[b].T)
    return As, B, D, delta, W, Jb, rank_one


#: LAPACK dpotrf through numba's own wrapper (what np.linalg.cholesky calls in compiled code),
#: called directly for its return code: a matrix that is not positive definite then costs no
#: exception (raised in compiled code, an exception costs ~0.2 ms)
_xxpotrf = types.ExternalFunction("numba_xxpotrf", types.intc(types.char, types.char, types.intp,
                                                              types.CPointer(types.float64), types.intp))


@njit(cache=True, error_model="numpy")
def _cholesky_lower(S):
    """Cholesky factor L (S = L L^T) of the symmetric C-ordered ``S`` read from its lower
    triangle, in place (the upper triangle set to 0); LAPACK's info: 0 or k > 0 if the leading
    minor of order k is not positive definite (``S`` then holds partial results)."""
    n = S.shape[0]
    if n == 0:
        return 0
    # C order is LAPACK's transpose: its upper triangle is the lower one here
    info = _xxpotrf(ord("d"), ord("U"), n, S.ctypes, n)
    if info == 0:
        for i in range(n):
            for j in range(i + 1, n):
                S[i, j] = 0.0
    return info


@njit(cache=True, error_model="numpy")
def _factorize(A, B, delta, w, u, fg, fl, damping, floor, local_bin, local_slot, slot_used):
    """(status, Dinv, Y, Bm, L): :meth:`.blocks.HessianBlocks.factorize` with rank-one local
    blocks D_b = diag(delta_b) + w_b u_b u_b^T: the inverse blocks, D^-1 B^T at the local
    parameters ``Y`` (nl, ng), B restricted to the free parameters and the Cholesky factor L of
    the Schur complement (lower triangle; upper 0); status 0 success, 1 a damped diagonal not
    > 0 (not covered: numpy path), 2 the Schur complement is not positive definite."""
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
    Sm = A.copy()
    if not all_g or damping != 0.0:
        for g in range(ng):
            if not fg[g]:
                Sm[g, :] = 0.0
                Sm[:, g] = 0.0
        for g in range(ng):
            d = Sm[g, g]
            if not fg[g]:
                d = 1.0
            elif damping != 0.0:
                d += damping * max(abs(d), floor)
            Sm[g, g] = d
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
                di = di + damping * max(abs(delta[b, i] + w[b] * uu[i] * uu[i]), floor)
            dlb[b, i] = di if active[b, i] else 1.0
            if not dlb[b, i] > 0.0:
                return 1, Dinv, np.zeros((nl, ng)), np.zeros((ng, nl)), np.zeros((ng, ng))
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
    if all_g and all_l:
        Bm = B
    else:  # B restricted to the free parameters
        Bm = B.copy()
        for g in range(ng):
            for j in range(nl):
                if not (fg[g] and fl[j]):
                    Bm[g, j] = 0.0
    # Y_b = D_b^-1 B_b^T = diag(1/dl) B_b^T - s_b v_b z_b^T with z_b = B_b v_b (Sherman-Morrison),
    # at the local parameters (the rows of unused and inactive slots are 0), (nl, ng): the
    # product B Y below is then a plain (not transposed) matrix product, the fastest for BLAS
    Y = np.ascontiguousarray(Bm.T)  # B^T, then D^-1 B^T in place (contiguous loops)
    z = np.zeros((nb, ng))
    for j in range(nl):
        b, vj = local_bin[j], vb[local_bin[j], local_slot[j]]
        for g in range(ng):
            z[b, g] += vj * Y[j, g]
    for j in range(nl):
        b, i = local_bin[j], local_slot[j]
        cj, svj = 1.0 / dlb[b, i], sb[b] * vb[b, i]
        for g in range(ng):
            Y[j, g] = Y[j, g] * cj - svj * z[b, g]
    BY = Bm @ Y
    for i in range(ng):  # S = A - B Y, symmetrised, lower triangle
        for j in range(i + 1):
            Sm[i, j] = 0.5 * ((Sm[i, j] - BY[i, j]) + (Sm[j, i] - BY[j, i]))
    for j in range(ng):
        if not Sm[j, j] > 0.0:
            return 2, Dinv, Y, Bm, Sm
    if _cholesky_lower(Sm) != 0:
        return 2, Dinv, Y, Bm, Sm
    return 0, Dinv, Y, Bm, Sm


@njit(cache=True, error_model="numpy")
def _cholesky_inverse(L):
    """S^-1 = L^-T L^-1 from the Cholesky factor L of S (L^-1 row by row)."""
    ng = L.shape[0]
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
    return Li.T @ Li


@njit(cache=True, error_model="numpy")
def _solve(grad, Dinv, Bm, Yl, L, fg, fl, global_params, local_params, local_bin, local_slot):
    """x with H x = grad on the free parameters, 0 elsewhere (:meth:`.blocks.BlockSolver.solve`)
    from :func:`_factorize`'s pieces: two triangular solves with the Cholesky factor L."""
    ng = global_params.shape[0]
    nl = local_params.shape[0]
    nb, m = Dinv.shape[0], Dinv.shape[1]
    glb = np.zeros((nb, m))
    for j in range(nl):
        if fl[j]:
            glb[local_bin[j], local_slot[j]] = grad[local_params[j]]
    yl = np.empty(nl)
    for j in range(nl):
        b, i = local_bin[j], local_slot[j]
        acc = 0.0
        for k in range(m):
            acc += Dinv[b, i, k] * glb[b, k]
        yl[j] = acc
    xg = Bm @ yl
    for g in range(ng):
        xg[g] = (grad[global_params[g]] if fg[g] else 0.0) - xg[g]
    for i in range(ng):  # L L^T xg = rg
        acc = xg[i]
        for k in range(i):
            acc -= L[i, k] * xg[k]
        xg[i] = acc / L[i, i]
    for i in range(ng - 1, -1, -1):
        acc = xg[i]
        for k in range(i + 1, ng):
            acc -= L[k, i] * xg[k]
        xg[i] = acc / L[i, i]
    t = Yl @ xg
    x = np.zeros(grad.shape[0])
    for g in range(ng):
        if fg[g]:
            x[global_params[g]] = xg[g]
    for j in range(nl):
        if fl[j]:
            x[local_params[j]] = yl[j] - t[j]
    return x


@njit(cache=True, error_model="numpy")
def free_set(x, g, lo, hi, fixed):
    """:func:`.minimizer.free_set` compiled: the free parameters of a Newton step at ``x``."""
    free = np.empty(x.shape[0], dtype=np.bool_)
    for i in range(x.shape[0]):
        free[i] = not (fixed[i] or (x[i] <= lo[i] and g[i] > 0.0) or (x[i] >= hi[i] and g[i] < 0.0))
    return free


@njit(cache=True, error_model="numpy")
def trial_point(x, step, t, lo, hi, free, g):
    """:func:`.minimizer._trial_point` compiled: (x - t * step clipped to the bounds on the free
    parameters, g.(xn - x)); the same operations, and the same BLAS dot product."""
    n = x.shape[0]
    xn = np.empty(n)
    dx = np.empty(n)
    for i in range(n):
        v = x[i]
        if free[i]:
            v -= t * step[i]
            if v < lo[i]:  # np.maximum and np.minimum as comparisons: NaN stays NaN
                v = lo[i]
            if v > hi[i]:
                v = hi[i]
        xn[i] = v
        dx[i] = v - x[i]
    return xn, np.dot(g, dx)


class NumbaKernel:
    """The compiled kernel of one model (shared by the copies made with ``with_data``): the static
    index arrays, ready for the compiled functions."""

    #: the Newton minimiser's elementwise steps (:func:`.minimizer._newton`), compiled
    free_set = staticmethod(free_set)
    trial_point = staticmethod(trial_point)

    def __init__(self, model):
        c = model.compiled
        self.supported = dict(model.interpolation_codes) == SUPPORTED_CODES
        E = len(c.entry_row)
        term = np.full(E, -1, dtype=np.int64)
        term[c.entry_normsys] = c.entry_term
        # (row, histosys variation) pairs that can be non-zero: the variations' support, and the
        # rows of relative variations (they follow their sample's template), as lists per row
        support = (c.histo_up != 0) | (c.histo_dn != 0)
        for key, rel in c.histo_relative.items():
            for k, _hi, _lo in rel:
                support[k, c.sample_rows[key]] = True
        rows, ks = np.nonzero(support.T)
        self._csr = (ks, rows)
        hrow_start = np.searchsorted(rows, np.arange(c.nrows + 1))

        def ints(a):
            return np.ascontiguousarray(a, dtype=np.int64)

        self._interp = (ints(c.histo_param), np.ascontiguousarray(_CODE4P_POLY), ints(hrow_start), ints(ks),
                        ints(c.normsys_param), np.ascontiguousarray(c.normsys_log_hi, float),
                        np.ascontiguousarray(c.normsys_log_lo, float), np.ascontiguousarray(c.normsys_table, float))
        self._entries = (ints(c.entry_param), ints(c.entry_row), ints(c.entry_slot), term, ints(c.row_entries),
                         ints(c.row_bin))
        self._blocks = (ints(c.global_pos), ints(c.local_pos), ints(c.local_bin), ints(c.local_slot),
                        len(c.global_params), int(c.block_size), ints(c.histo_gpos), ints(c.pair_first),
                        ints(c.pair_second), ints(c.pair_row))
        self._solver = (ints(c.global_params), ints(c.local_params), ints(c.local_bin), ints(c.local_slot))
        self._slot_used = np.ascontiguousarray(c.slot_used)

    def _args(self, model):
        """(model-dependent arguments (templates, data, constraints), slot): the arguments are
        kept on the model (``_kernel_args``) while they are the same objects; the slot
        [workspace arrays, state] belongs to this model object (a copy made with ``with_data``
        gets its own) and to the calling thread.  The state (theta, no factor is 0, -ln L,
        gradient) says at which point the workspace holds the first-order pieces."""
        cons = model.constraints
        cached = model.__dict__.get("_kernel_args")
        if cached is not None:
            k = cached[0]
            if (cached[2] == id(model) and k[0] is model._nominal and k[1] is model._histo_up
                    and k[2] is model._histo_dn and k[3] is model.observed and k[4] is cons
                    and k[5] == model._main_const):
                args, slots = cached[1], cached[3]
                slot = slots.get(threading.get_ident())
                if slot is None:
                    slot = slots[threading.get_ident()] = [self._workspace(model), None]
                return args, slot
        key = (model._nominal, model._histo_up, model._histo_dn, model.observed, cons, model._main_const)
        args = (np.ascontiguousarray(model._nominal, float), np.ascontiguousarray(model._histo_up[self._csr], float),
                np.ascontiguousarray(model._histo_dn[self._csr], float), *self._interp, *self._entries,
                np.ascontiguousarray(model.observed, float), float(model._main_const),
                ints64(cons.gauss_param), np.ascontiguousarray(cons.gauss_aux, float),
                np.ascontiguousarray(cons.gauss_inv_var, float), float(cons.gauss_const), ints64(cons.pois_param),
                np.ascontiguousarray(cons.pois_aux, float), np.ascontiguousarray(cons.pois_factor, float),
                float(cons.pois_const))
        slot = [self._workspace(model), None]
        model._kernel_args = (key, args, id(model), {threading.get_ident(): slot})
        return args, slot

    @staticmethod
    def _workspace(model):
        """The workspace arrays of :func:`_first_order` (hw, T, Q, phi, dphi, d2phi, Qm, lam, G, hu, hd)."""
        c = model.compiled
        R, K, E, nb = c.nrows, len(c.histo_param), len(c.entry_row), model.nbins
        return (np.empty((6, K)), np.empty(R), np.empty(R), np.empty(E + 1), np.empty(E), np.empty(E),
                np.empty(E), np.empty(nb), np.empty(nb), np.empty(K), np.empty(K))

    @staticmethod
    def _value_grad(theta, args, slot):
        """(-ln L, gradient) at ``theta``; the first-order pieces stay in the slot's workspace."""
        vals, grads, nonzero = _value_grad(theta.reshape(1, -1), *args, *slot[0])
        val, grad = float(vals[0]), grads[0]
        slot[1] = (theta.copy(), nonzero, val, grad.copy())
        return val, grad

    def evaluate(self, model, theta, order: int):
        """(-ln L, gradient, HessianBlocks or None) as :func:`.evaluate.evaluate` (``order`` 1:
        no Hessian, 2: exact Hessian, 3: its Gauss-Newton part); None if not covered.

        A Hessian asked for at the point of the last gradient (as the Newton minimiser does
        after a step) takes the first-order pieces from the workspace."""
        if not self.supported:
            return None
        theta = np.ascontiguousarray(theta, dtype=float)
        args, slot = self._args(model)
        if order == 1:
            val, grad = self._value_grad(theta, args, slot)
            return val, grad, None
        st = slot[1]
        if st is None or not (st[0] == theta).all():
            self._value_grad(theta, args, slot)
            st = slot[1]
        val, grad = st[2], st[3].copy()
        if not math.isfinite(val):
            return val, grad, None
        A, B, D, delta, W, Jb, rank_one = _hessian(theta, order == 2, st[1], *args, *slot[0], *self._blocks)
        return val, grad, HessianBlocks(model, A, B, D, (delta, W, Jb) if rank_one else None)

    def nll_and_grad_many(self, model, thetas):
        """(-ln L, gradient) of each row of ``thetas`` (W, npars); None if not covered."""
        if not self.supported:
            return None
        args, slot = self._args(model)
        slot[1] = None  # the workspace will hold the last row's pieces
        vals, grads, _ = _value_grad(np.ascontiguousarray(thetas, dtype=float), *args, *slot[0])
        return vals, grads

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
        cont = np.ascontiguousarray  # one compiled signature (numpy-made blocks may be F-ordered)
        status, Dinv, Yl, Bm, L = _factorize(cont(blocks.A), cont(blocks.B), cont(delta), cont(w), cont(u), fg, fl,
                                             float(damping), float(blocks_module.DAMPING_FLOOR), self._blocks[2],
                                             self._blocks[3], self._slot_used)
        if status == 1:
            return None
        if status == 2:
            raise np.linalg.LinAlgError("the Schur complement is not positive definite")
        return CompiledBlockSolver(blocks.model, fg, fl, Dinv, Yl, Bm, L)

    def solve(self, solver: BlockSolver, grad):
        """:meth:`.blocks.BlockSolver.solve` for one right-hand side ``grad`` (npars,) of a
        solver made by :meth:`factorize`; None for another (numpy path)."""
        if not isinstance(solver, CompiledBlockSolver):
            return None
        return _solve(np.ascontiguousarray(grad, dtype=float), solver.Dinv, solver.Bm, solver.Yl, solver.L,
                      solver.fg, solver.fl, *self._solver)


class CompiledBlockSolver(BlockSolver):
    """A :class:`.blocks.BlockSolver` from the compiled factorisation.  It keeps B restricted to
    the free parameters ``Bm`` (ng, nl), ``Yl`` (nl, ng: D^-1 B^T at the local parameters)
    and the Cholesky factor ``L`` of the Schur complement (a solve is two
    triangular solves); ``Y``, ``Bf`` and S^-1 are formed only when asked (several right-hand
    sides, covariances)."""

    def __init__(self, model, fg, fl, Dinv, Yl, Bm, L):
        self.model, self.fg, self.fl, self.Dinv, self.Yl, self.Bm, self.L = model, fg, fl, Dinv, Yl, Bm, L
        self._Sinv = None

    @property
    def Sinv(self) -> np.ndarray:
        """(ng, ng) inverse Schur complement."""
        if self._Sinv is None:
            self._Sinv = _cholesky_inverse(self.L)
        return self._Sinv

    @property
    def Y(self) -> np.ndarray:
        """(nb, m, ng) D^-1 B^T per bin."""
        c = self.model.compiled
        nb, m = self.Dinv.shape[:2]
        Y = np.zeros((nb * m, self.Yl.shape[1]))
        Y[c.local_flat] = self.Yl
        return Y.reshape(nb, m, -1)

    @property
    def Bf(self) -> np.ndarray:
        """(ng, nb * m) B (free parameters) in block layout."""
        c = self.model.compiled
        nb, m = self.Dinv.shape[:2]
        Bf = np.zeros((self.Bm.shape[0], nb * m))
        Bf[:, c.local_flat] = self.Bm
        return Bf


def ints64(a):
    """``a`` as a contiguous int64 array (no copy if it is one)."""
    return np.ascontiguousarray(a, dtype=np.int64)
