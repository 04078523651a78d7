"""-ln L of a compiled model with its exact gradient and block Hessian, in one fused pass.

With rows r (sample, bin), entries e (multiplicative factors) and main bins b
(see :mod:`.compile`):

    lambda_b = sum_{r in b} T_r Q_r
    -ln L = sum_b [lambda_b - n_b ln lambda_b + ln Gamma(n_b + 1)] + constraints

(HistFactory note, K. Cranmer et al., CERN-OPEN-2012-016; pyhf ``Model.logpdf``).
With G_b = 1 - n_b / lambda_b and W_b = n_b / lambda_b^2 the derivatives are

    d(-ln L)/dp      = sum_r G_b(r) d lambda_r/dp
    d2(-ln L)/dp dq  = sum_b W_b J_bp J_bq + sum_r G_b(r) d2 lambda_r/dp dq,   J_bp = d lambda_b/dp

and d lambda_r follows from the product rule over the row's factors: "the product of all other
factors" is Q_r / phi_e when no factor is zero, else prefix/suffix products (no division).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import xlogy

from ..errors import InputError
from .blocks import HessianBlocks


def bin_sum(model, x):
    """Sum over the rows of each main bin (last axis)."""
    return np.add.reduceat(x, model.compiled.bin_start, axis=-1)


def pieces(model, theta, order: int):
    """T (additive part), Q (multiplicative part) of every row and what derivatives need."""
    c = model.compiled
    T = model._nominal.copy()
    hw = None
    if len(c.histo_param):
        hw = model._histosys_weights(theta[c.histo_param])
        T += hw[0] @ model._histo_up + hw[1] @ model._histo_dn
    E = len(c.entry_row)
    phi = np.empty(E + 1)
    phi[E] = 1.0
    phi[c.entry_linear] = theta[c.entry_linear_param]
    du = None
    if len(c.normsys_param):
        f, df, d2f = model._normsys_factor(theta[c.normsys_param], c.normsys_log_hi, c.normsys_log_lo,
                                           c.normsys_table)
        phi[c.entry_normsys] = f[c.entry_term]
        du = (df, d2f)
    F = phi[c.row_entries]
    if order == 0:
        return T, _row_product(F), None
    nonzero = bool(F.all())
    if nonzero:  # no factor is zero: the product of the other entries is Q / phi_e
        Q = _row_product(F)
        Qm_e = Q[c.entry_row] / phi[:E]
    else:  # prefix and suffix products, no division
        R, S = F.shape
        pre = np.empty((R, S + 1))  # pre[:, s] = prod_{j < s} F_j,  suf[:, s] = prod_{j >= s} F_j
        pre[:, 0] = 1.0
        np.cumprod(F, axis=1, out=pre[:, 1:])
        suf = np.empty((R, S + 1))
        suf[:, S] = 1.0
        np.cumprod(F[:, ::-1], axis=1, out=suf[:, S - 1::-1])
        Q = pre[:, S]
        Qm_e = (pre[:, :-1] * suf[:, 1:])[c.entry_row, c.entry_slot]  # product of the other entries
    dphi = np.ones(E)
    d2phi = np.zeros(E)
    if du is not None:
        dphi[c.entry_normsys] = du[0][c.entry_term]
        d2phi[c.entry_normsys] = du[1][c.entry_term]
    return T, Q, (hw, Qm_e, dphi, d2phi, F, phi[:E], nonzero)


def _row_product(F):
    """Product over the columns of F (R, S): a chain of column products for small S (faster
    than a strided reduction, same order of multiplication)."""
    S = F.shape[1]
    if S > 8:
        return np.prod(F, axis=1)
    Q = F[:, 0].copy()
    for s in range(1, S):
        Q *= F[:, s]
    return Q


def _check_point(model, shape) -> None:
    """InputError unless the last axis of a point (or of a stack of points) has one value per
    parameter: the compiled kernel's loops do not check bounds (a short point would be read past
    its end)."""
    if shape[-1:] != (model.npars,):
        got = shape[-1] if shape else 1
        raise InputError(f"parameter point of {got} values; accepted: {model.npars} (one per model parameter)")


def nll(model, theta) -> float:
    """-ln L(theta) with pyhf's full normalisation; inf if a bin yield is not > 0."""
    _check_point(model, np.shape(theta))
    if model._kernel is not None:
        out = model._kernel.evaluate(model, theta, 1)
        if out is not None:
            return out[0]
    T, Q, _ = pieces(model, theta, 0)
    lam = bin_sum(model, T * Q)
    if not _valid(lam, model.observed):
        return math.inf
    main = float(np.sum(lam - xlogy(model.observed, lam))) + model._main_const
    return main + model.constraints.nll(theta)


def evaluate(model, theta, hessian: bool):
    """(-ln L, gradient, :class:`HessianBlocks` or None).

    The first-order pieces of the last evaluation are kept on the model (``_eval_cache``): a
    Hessian asked for at the point of the last gradient (as the Newton minimiser does) reuses
    them.  ``set_data`` and ``set_sample_template`` clear the cache.  With the compiled kernel
    (``model.kernel == "numba"``, :mod:`.kernel`) one compiled call computes it all.
    """
    _check_point(model, np.shape(theta))
    if model._kernel is not None:
        out = model._kernel.evaluate(model, theta, 2 if hessian else 1)
        if out is not None:
            return out
    st = model._eval_cache
    if st is None or not np.array_equal(st[0], theta):
        st = _first_order(model, theta)
        model._eval_cache = st
    theta, val, grad = st[0], st[1], st[2]
    if not hessian or not math.isfinite(val):
        return val, grad.copy(), None
    return val, grad.copy(), _hessian(model, theta, *st[3:])


def gauss_newton(model, theta) -> HessianBlocks | None:
    """The Gauss-Newton part of the Hessian: sum_b W_b J_bp J_bq plus the constraint terms,
    i.e. the exact Hessian without the terms weighted by G_b = 1 - n_b / lambda_b (positive
    semi-definite; the constraints make it definite in their parameters).  The Newton
    minimiser steps with it where the exact Hessian is not positive definite (Fisher scoring).
    None where -ln L is not finite."""
    _check_point(model, np.shape(theta))
    if model._kernel is not None:
        out = model._kernel.evaluate(model, theta, 3)
        if out is not None:
            return out[2]
    st = model._eval_cache
    if st is None or not np.array_equal(st[0], theta):
        st = _first_order(model, theta)
        model._eval_cache = st
    if not math.isfinite(st[1]):
        return None
    return _hessian(model, st[0], *st[3:], second_order=False)


def _first_order(model, theta):
    """(theta, -ln L, gradient, pieces needed by the Hessian)."""
    c = model.compiled
    theta = theta.copy()
    T, Q, (hw, Qm_e, dphi, d2phi, F, phi_e, nonzero) = pieces(model, theta, 1)
    lam = bin_sum(model, T * Q)
    npar = model.npars
    obs = model.observed
    if not _valid(lam, obs):
        return theta, math.inf, np.full(npar, np.nan)
    val = float(np.sum(lam - xlogy(obs, lam))) + model._main_const + model.constraints.nll(theta)
    G = (1.0 - _over(obs, lam))[c.row_bin]
    er, ep = c.entry_row, c.entry_param
    dQ = dphi * Qm_e  # dQ_r / dtheta_p(e) for each entry e
    GT = G * T
    grad = np.bincount(ep, weights=GT[er] * dQ, minlength=npar)
    hu = hd = None
    if hw is not None:
        GQ = G * Q
        hu, hd = model._histo_up @ GQ, model._histo_dn @ GQ
        grad[c.histo_param] += hw[2] * hu + hw[3] * hd  # histosys parameters are distinct
    model.constraints.add_grad(grad, theta)
    return theta, val, grad, T, Q, hw, Qm_e, dphi, d2phi, F, phi_e, nonzero, lam, G, dQ, GT, hu, hd


def nll_and_grad_many(model, thetas):
    """(-ln L, gradient) of each row of ``thetas`` (W, npars) in one pass over stacked arrays:
    (W,) and (W, npars); inf and NaN where a bin yield is not valid.

    The same arithmetic as :func:`evaluate` per row (the Python and dispatch costs are paid
    once for all W points); rows with a factor exactly 0 go through :func:`evaluate`.
    """
    thetas = np.array(thetas, dtype=float, ndmin=2)
    _check_point(model, thetas.shape)
    if model._kernel is not None:
        out = model._kernel.nll_and_grad_many(model, thetas)
        if out is not None:
            return out
    c = model.compiled
    W, npar = thetas.shape
    T = np.repeat(model._nominal[None, :], W, axis=0)
    hw = None
    if len(c.histo_param):
        hw = model._histosys_weights(thetas[:, c.histo_param])  # six (W, K)
        T += hw[0] @ model._histo_up + hw[1] @ model._histo_dn
    E = len(c.entry_row)
    phi = np.empty((W, E + 1))
    phi[:, E] = 1.0
    phi[:, c.entry_linear] = thetas[:, c.entry_linear_param]
    dphi = np.ones((W, E))
    if len(c.normsys_param):
        f, df, _ = model._normsys_factor(thetas[:, c.normsys_param], c.normsys_log_hi, c.normsys_log_lo,
                                         c.normsys_table)
        phi[:, c.entry_normsys] = f[:, c.entry_term]
        dphi[:, c.entry_normsys] = df[:, c.entry_term]
    F = phi[:, c.row_entries]  # (W, R, S)
    S = F.shape[2]
    if S > 8:
        Q = np.prod(F, axis=2)
    else:
        Q = F[:, :, 0].copy()
        for j in range(1, S):
            Q *= F[:, :, j]
    lam = bin_sum(model, T * Q)  # (W, nb)
    obs = model.observed
    vals = np.full(W, math.inf)
    grads = np.full((W, npar), np.nan)
    zero = (phi[:, :E] == 0.0).any(axis=1)
    ok = ~zero & (lam > 0).all(axis=1) & np.isfinite(lam).all(axis=1)
    for w in np.flatnonzero(zero | ~ok):  # rare: a zero factor or yield
        vals[w], grads[w], _ = evaluate(model, thetas[w], hessian=False)
    if not ok.any():
        return vals, grads
    if not ok.all():
        thetas, T, Q, lam, phi, dphi = thetas[ok], T[ok], Q[ok], lam[ok], phi[ok], dphi[ok]
        hw = None if hw is None else tuple(h[ok] for h in hw)
    n = len(thetas)
    vals[ok] = (np.sum(lam - xlogy(obs, lam), axis=1) + model._main_const + model.constraints.nll_many(thetas))
    G = (1.0 - obs / lam)[:, c.row_bin]
    er = c.entry_row
    dQ = dphi * (Q[:, er] / phi[:, :E])
    GT = G * T
    flat = (np.arange(n)[:, None] * npar + c.entry_param[None, :]).ravel()
    grad = np.bincount(flat, weights=(GT[:, er] * dQ).ravel(), minlength=n * npar).reshape(n, npar)
    if hw is not None:
        GQ = G * Q
        grad[:, c.histo_param] += hw[2] * (GQ @ model._histo_up.T) + hw[3] * (GQ @ model._histo_dn.T)
    model.constraints.add_grad(grad, thetas)
    grads[ok] = grad
    return vals, grads


def _hessian(model, theta, T, Q, hw, Qm_e, dphi, d2phi, F, phi_e, nonzero, lam, G, dQ, GT, hu, hd,
             second_order: bool = True) -> HessianBlocks:
    """The Hessian blocks from the first-order pieces; without the terms weighted by G
    (the second derivatives of the yields) if not ``second_order``: the Gauss-Newton part."""
    c = model.compiled
    obs = model.observed
    er, ep = c.entry_row, c.entry_param
    ng, nl, nb, m = len(c.global_params), len(c.local_params), model.nbins, c.block_size
    W = _over(obs, lam ** 2)
    eg, el = c.entries_global, c.entries_local
    # Jacobian of the bin yields: global part (nb x ng, one scatter of the histosys and the
    # global entries) and local part (nl,)
    jac_values = T[c.entries_global_row] * dQ[eg]
    if hw is not None:
        DT = hw[2][:, None] * model._histo_up + hw[3][:, None] * model._histo_dn  # (K, R)
        jac_values = np.concatenate([(DT * Q).ravel(), jac_values])
    Jg = _scatter(c.scatter_jac, jac_values, (nb, ng))
    Jl = np.bincount(c.local_pos[ep[el]], weights=T[er[el]] * dQ[el], minlength=nl)
    Jb = np.zeros(nb * m)
    Jb[c.local_flat] = Jl
    Jb = Jb.reshape(nb, m)
    D = W[:, None, None] * Jb[:, :, None] * Jb[:, None, :]
    B = Jg[c.local_bin].T * (W[c.local_bin] * Jl)[None, :]
    if not second_order:
        A = Jg.T @ (W[:, None] * Jg)
        return _with_constraints(model, theta, A, B, D, W, Jb, rank_one=True)
    # sum_r G_r d2(lambda_r): the global-global terms in one scatter
    GdQ = G[er] * dQ
    a_values = [GT[c.entries_global_row] * d2phi[eg] * Qm_e[eg]]
    if hw is not None:
        # histosys diagonal, and histosys x global entries (both orders):
        # C[g, k] = sum_{e global, p(e) = g} DT[k, row(e)] GdQ[e]
        Xg = (DT[:, c.entries_global_row] * GdQ[eg]).ravel()
        a_values += [hw[4] * hu + hw[5] * hd, Xg, Xg]
        if len(el):  # histosys x local entries, summed per local parameter
            X = DT[:, c.local_entries_row] * GdQ[c.local_entries]
            B[c.histo_gpos] += X if c.local_entry_start is None else np.add.reduceat(X, c.local_entry_start, axis=1)
    if len(c.pair_first):
        a, b = c.pair_first, c.pair_second
        if nonzero:  # product of the row's factors other than a and b
            Q2 = Qm_e[a] / phi_e[b]
        else:
            Q2 = np.prod(np.where(c.pair_keep, F[c.pair_row], 1.0), axis=1)
        w = GT[c.pair_row] * dphi[a] * dphi[b] * Q2
        a_values.append(w[c.pair_gg])
        B += _scatter(c.scatter_pgl, w[c.pair_gl], B.shape)
        D += _scatter(c.scatter_pll, w[c.pair_ll], D.shape)
    A = Jg.T @ (W[:, None] * Jg) + _scatter(c.scatter_a, np.concatenate(a_values), (ng, ng))
    return _with_constraints(model, theta, A, B, D, W, Jb, rank_one=not len(c.pair_ll))


def _with_constraints(model, theta, A, B, D, W, Jb, rank_one: bool) -> HessianBlocks:
    """Add the (diagonal) constraint terms and make the blocks."""
    c = model.compiled
    delta = np.zeros(Jb.shape)  # the constraint (diagonal) part of the local blocks
    for idx, values in model.constraints.hess_diag(theta):  # constraints are diagonal
        _add_diag(c, A, D, delta, idx, values)
    # without local-local terms each block is diagonal plus rank one: D_b = diag(delta_b) + W_b Jb_b Jb_b^T
    return HessianBlocks(model, 0.5 * (A + A.T), B, 0.5 * (D + D.transpose(0, 2, 1)),
                         (delta, W, Jb) if rank_one else None)


def _valid(lam, obs) -> bool:
    """Every bin yield finite and > 0, or = 0 in a bin with no events (Poisson(0 | 0) = 1)."""
    if lam.min(initial=math.inf) > 0:
        return bool(np.isfinite(lam).all())
    return bool(np.all((lam > 0) | ((lam == 0) & (obs == 0))) and np.isfinite(lam).all())


def _over(obs, x):
    """obs / x, with 0 where obs = 0 (also where x = 0)."""
    if x.min(initial=math.inf) > 0:
        return obs / x
    return np.divide(obs, x, out=np.zeros_like(x), where=obs != 0)


def _add_diag(c, A, D, delta, idx, values) -> None:
    is_glob = c.global_pos[idx] >= 0
    gi = c.global_pos[idx[is_glob]]
    A[gi, gi] += values[is_glob]
    li = c.local_pos[idx[~is_glob]]
    D[c.local_bin[li], c.local_slot[li], c.local_slot[li]] += values[~is_glob]
    delta[c.local_bin[li], c.local_slot[li]] += values[~is_glob]


def _scatter(flat_index, values, shape) -> np.ndarray:
    """Dense array of ``shape`` with ``values`` summed at the flat indices."""
    return np.bincount(flat_index, weights=values, minlength=int(np.prod(shape))).reshape(shape)
