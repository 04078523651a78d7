"""Block linear algebra of the NLL Hessian: Schur complement over per-bin local blocks.

Parameters split into ng "global" ones and nl "local" ones (see :mod:`.compile`).  Ordered
(global, local), the Hessian is

    H = [[A, B], [B^T, D]],   D block diagonal with one m x m block per main bin,

so H x = g is solved with the Schur complement S = A - B D^-1 B^T (ng x ng dense algebra
instead of npars x npars, and only small batched inverses for D).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from ..errors import InputError

#: Levenberg damping adds damping * max(|H_ii|, DAMPING_FLOOR) to each free diagonal element
#: (the floor lets it lift a zero diagonal); the compiled kernel (:mod:`.kernel_numba`) takes it
#: from here.
DAMPING_FLOOR = 1e-8


@dataclass
class HessianBlocks:
    """The NLL Hessian in block form: global-global ``A``, global-local ``B`` and the per-bin
    local blocks ``D`` (n_bins x m x m, unused slots zero).  Local parameters are those that
    multiply the rows of a single bin linearly (MC-statistics gammas and the like)."""

    model: object
    A: np.ndarray
    B: np.ndarray
    D: np.ndarray
    #: (delta, w, u) when every block is diagonal plus rank one, D_b = diag(delta_b) + w_b u_b u_b^T
    #: (no two local parameters share a row): the blocks are then inverted in closed form
    rank_one: tuple | None = None

    def dense(self) -> np.ndarray:
        """The full (npars x npars) Hessian."""
        mdl, c = self.model, self.model.compiled
        H = np.zeros((mdl.npars, mdl.npars))
        g, loc = c.global_params, c.local_params
        H[np.ix_(g, g)] = self.A
        H[np.ix_(g, loc)] = self.B
        H[np.ix_(loc, g)] = self.B.T
        same = c.local_bin[:, None] == c.local_bin[None, :]
        blockvals = self.D[c.local_bin[:, None], c.local_slot[:, None], c.local_slot[None, :]]
        H[np.ix_(loc, loc)] = np.where(same, blockvals, 0.0)
        return H

    def column(self, p: int) -> np.ndarray:
        """Column ``p`` of the Hessian (npars,), without forming the dense matrix."""
        mdl, c = self.model, self.model.compiled
        col = np.zeros(mdl.npars)
        gp, lp = c.global_pos[p], c.local_pos[p]
        if gp >= 0:
            col[c.global_params] = self.A[:, gp]
            col[c.local_params] = self.B[gp]
        else:
            col[c.global_params] = self.B[:, lp]
            same = np.flatnonzero(c.local_bin == c.local_bin[lp])
            col[c.local_params[same]] = self.D[c.local_bin[lp], c.local_slot[same], c.local_slot[lp]]
        return col

    def factorize(self, free, damping: float = 0.0) -> BlockSolver:
        """Factorise H over the ``free`` parameters (Schur complement over the per-bin local
        blocks); ``damping`` adds damping * |diag| (Levenberg).  Raises np.linalg.LinAlgError
        if H (restricted, damped) is not positive definite.  With the compiled kernel
        (:mod:`.kernel`) one compiled call where the local blocks are diagonal plus rank one."""
        mdl, c = self.model, self.model.compiled
        if mdl._kernel is not None:
            fac = mdl._kernel.factorize(self, free, damping)
            if fac is not None:
                return fac
        ng, nb, m = len(c.global_params), mdl.nbins, c.block_size
        free = np.asarray(free, dtype=bool)
        fg, fl = free[c.global_params], free[c.local_params]
        all_g, all_l = bool(fg.all()), bool(fl.all())
        A = self.A.copy()
        if not all_g or damping:
            if not all_g:
                A[~fg, :] = 0.0
                A[:, ~fg] = 0.0
            d = np.diagonal(A).copy()
            d[~fg] = 1.0
            if damping:
                d[fg] += damping * np.maximum(np.abs(d[fg]), DAMPING_FLOOR)
            A.flat[::ng + 1] = d
        # inactive locals and unused slots become identity rows of the per-bin blocks
        if all_l:
            active = c.slot_used
        else:
            active = np.zeros(nb * m, dtype=bool)
            active[c.local_flat[fl]] = True
            active = active.reshape(nb, m)
        Dinv = self._rank_one_inverse(active, damping) if self.rank_one is not None else None
        if Dinv is None:
            D = self.D.copy() if all_l else self.D * active[:, :, None] * active[:, None, :]  # unused slots are 0
            dd = np.einsum("bii->bi", D).copy()
            if damping:
                dd = np.where(active, dd + damping * np.maximum(np.abs(dd), DAMPING_FLOOR), dd)
            ar = np.arange(m)
            D[:, ar, ar] = np.where(active, dd, 1.0)
            np.linalg.cholesky(D)  # raises LinAlgError unless every block is positive definite
            Dinv = np.linalg.inv(D)
        Bf = np.zeros((ng, nb * m))  # B in block layout (ng, nb * m)
        Bf[:, c.local_flat] = self.B if all_g and all_l else self.B * fg[:, None] * fl[None, :]
        Y = Dinv @ Bf.reshape(ng, nb, m).transpose(1, 2, 0)  # (nb, m, ng) = D^-1 B^T per bin
        S = A - Bf @ Y.reshape(nb * m, ng)
        L, info = lapack.dpotrf(0.5 * (S + S.T), lower=1, clean=1)  # LAPACK Cholesky, upper triangle 0
        if info != 0:
            raise np.linalg.LinAlgError("the Schur complement is not positive definite")
        Linv, info = lapack.dtrtri(L, lower=1)  # L^-1 (the upper triangle stays 0 as in L)
        if info != 0:  # pragma: no cover - L from a successful Cholesky is non-singular
            raise np.linalg.LinAlgError("singular Cholesky factor of the Schur complement")
        return BlockSolver(mdl, fg, fl, Dinv, Y, Bf, Linv.T @ Linv)

    def _rank_one_inverse(self, active, damping: float):
        """Inverse blocks of D_b = diag(delta_b) + w_b u_b u_b^T (restricted to ``active`` slots,
        identity elsewhere, damped as in :meth:`factorize`) by Sherman-Morrison, or None unless
        every active delta > 0 (then D_b is positive definite, since w_b = n_b / lambda_b^2 >= 0)."""
        delta, w, u = self.rank_one
        u = u * active
        if damping:
            dd = delta + w[:, None] * u * u  # the diagonal of D
            delta = delta + damping * np.maximum(np.abs(dd), DAMPING_FLOOR)
        delta = np.where(active, delta, 1.0)
        if not (delta > 0.0).all():
            return None
        v = u / delta
        s = w / (1.0 + w * np.einsum("bi,bi->b", u, v))
        Dinv = v[:, :, None] * (-s[:, None, None] * v[:, None, :])
        m = delta.shape[1]
        Dinv[:, np.arange(m), np.arange(m)] += 1.0 / delta
        return Dinv

    def solve(self, grad, free, damping: float = 0.0):
        """Solve H x = grad over the ``free`` parameters (x = 0 elsewhere).  Returns (x, S^-1),
        S^-1 being the global-global block of H^-1 (ng x ng)."""
        fac = self.factorize(free, damping)
        return fac.solve(grad), fac.Sinv


def minimum_tangent(hessian_blocks, solver, p: int) -> np.ndarray:
    """dx/d theta_p of the minimum over the free parameters as theta_p moves: -H_ff^-1 H_fp
    (implicit function theorem), from the Hessian blocks and their factorisation ``solver``
    over the free parameters; 0 on the parameters that are not free (p among them)."""
    return -solver.solve(hessian_blocks.column(p))


@dataclass
class BlockSolver:
    """A factorised block Hessian (see :meth:`HessianBlocks.factorize`)."""

    model: object
    fg: np.ndarray     # free flags of the global parameters
    fl: np.ndarray     # free flags of the local parameters
    Dinv: np.ndarray   # (nb, m, m) inverses of the local blocks
    Y: np.ndarray      # (nb, m, ng) D^-1 B^T per bin
    Bf: np.ndarray     # (ng, nb * m) B in block layout
    Sinv: np.ndarray   # (ng, ng) inverse Schur complement

    def solve(self, grad) -> np.ndarray:
        """x with H x = grad on the free parameters, 0 on the others; ``grad`` (npars,), or
        (W, npars) for W right-hand sides at once."""
        mdl, c = self.model, self.model.compiled
        nb, m = self.Dinv.shape[:2]
        shape = np.shape(grad)
        if shape[-1:] != (mdl.npars,) or len(shape) > 2:  # the compiled solve does not check bounds
            raise InputError(f"right-hand side of shape {shape}; accepted: (npars,) or (W, npars), npars = {mdl.npars}")
        if np.ndim(grad) == 2:
            return self._solve_many(grad)
        if mdl._kernel is not None:
            x = mdl._kernel.solve(self, grad)
            if x is not None:
                return x
        gg, gl = grad[c.global_params], grad[c.local_params]
        all_free = self.fg.all() and self.fl.all()
        if not all_free:
            gg, gl = np.where(self.fg, gg, 0.0), np.where(self.fl, gl, 0.0)
        glb = np.zeros(nb * m)
        glb[c.local_flat] = gl
        yl = np.einsum("bij,bj->bi", self.Dinv, glb.reshape(nb, m))
        xg = self.Sinv @ (gg - self.Bf @ yl.reshape(-1))
        xl = (yl - np.einsum("bmg,g->bm", self.Y, xg)).reshape(-1)[c.local_flat]
        x = np.zeros(mdl.npars)
        x[c.global_params] = xg if all_free else np.where(self.fg, xg, 0.0)
        x[c.local_params] = xl if all_free else np.where(self.fl, xl, 0.0)
        return x

    def _solve_many(self, grads) -> np.ndarray:
        """:meth:`solve` for each row of ``grads`` (W, npars)."""
        c = self.model.compiled
        nb, m = self.Dinv.shape[:2]
        W = len(grads)
        gg = grads[:, c.global_params]
        # the gradient in the block layout; a slot without a free local parameter takes any
        # value: its row of D^-1 is the identity and its column of B is 0, so it changes
        # nothing else, and its result is dropped below
        glb = grads[:, c.block_param]
        yl = np.einsum("bij,wbj->wbi", self.Dinv, glb.reshape(W, nb, m)).reshape(W, nb * m)
        xg = (gg - yl @ self.Bf.T) @ self.Sinv.T  # a fixed global's S^-1 row is its unit vector
        xl = (yl - xg @ self.Y.reshape(nb * m, -1).T)[:, c.local_flat]
        x = np.empty((W, grads.shape[1]))
        x[:, c.global_params] = xg if self.fg.all() else xg * self.fg
        x[:, c.local_params] = xl if self.fl.all() else xl * self.fl
        return x
