"""emcee's ensemble sampler and red-blue moves with their per-walker Python loops replaced by
array operations -- the same chains, bit for bit, at a fraction of the overhead per step.

emcee 3.1 spends more time per step in its Python bookkeeping than xfit's vectorised
likelihoods do in their arithmetic; with 256 walkers about half of a step went to two loops
over walkers and a slow proposal (a thermodynamic integration runs ~2x faster without them):

* ``RedBlueMove.propose`` accepts or rejects each walker of a half-ensemble in turn, with one
  ``random.rand()`` per walker.  :class:`ArrayAcceptance` draws those uniforms in one call
  (``RandomState.rand(n)`` yields the same numbers, in the same order, as n calls of
  ``rand()``) and compares ``ln u < factor + ln p_new - ln p_old`` on arrays: every
  comparison, and the random state left behind, is the one of the loop.
* ``DEMove.get_proposal`` draws its pairs of walkers with ``RandomState.choice`` (``randint``
  underneath) and differences them with ``np.diff``: :class:`DEMove` calls ``randint`` and
  subtracts, the same numbers with less overhead.
* ``EnsembleSampler.sample`` copies the random state into every step, needed only by a backend
  that writes it to a file (see :class:`EnsembleSampler`).
* ``EnsembleSampler.compute_log_prob`` turns the vectorised log-probability's result into a
  list of rows and converts every entry to a Python float.  :class:`EnsembleSampler` takes
  the columns of the array instead: column 0 is ln p, column 1 (if any) the blob, as for
  xfit's :class:`~xfit.inference.mcmc.posterior.LogPosterior` ((n, 2)) and the belle2
  posterior's ((n,)).

tests/inference/test_mcmc_fast_paths.py compares chains, ln p, blobs, acceptance and the final
random state with stock emcee's for every move xfit uses.
"""
from __future__ import annotations

import emcee
import numpy as np
from emcee.state import State

#: n -> the ordered pairs (j, k), j != k, of n walkers in the order emcee's DE move draws an index
#: into (emcee >= 3.1.5; cached there)
_NONDIAGONAL_PAIRS = getattr(emcee.moves.de, "_get_nondiagonal_pairs", None)


class ArrayAcceptance:
    """Mixin for an :class:`emcee.moves.RedBlueMove`: ``propose`` with array acceptance."""

    def propose(self, model, state):
        nwalkers, ndim = state.coords.shape
        if nwalkers < 2 * ndim and not self.live_dangerously:
            raise RuntimeError("a red-blue move needs at least twice as many walkers as dimensions")
        self.setup(state.coords)
        accepted = np.zeros(nwalkers, dtype=bool)
        walker = np.arange(nwalkers)
        group = walker % self.nsplits
        if self.randomize_split:
            model.random.shuffle(group)
        for split in range(self.nsplits):
            moving = group == split
            others = [state.coords[group == g] for g in range(self.nsplits) if g != split]
            proposal, factors = self.get_proposal(state.coords[moving], others, model.random)
            ln_p, blobs = model.compute_log_prob_fn(proposal)
            who = walker[moving]
            gain = factors + ln_p - state.log_prob[who]
            accepted[who] = gain > np.log(model.random.rand(who.size))
            state = self.update(state, State(proposal, log_prob=ln_p, blobs=blobs), accepted, moving)
        return state, accepted


class DEMove(ArrayAcceptance, emcee.moves.DEMove):
    """emcee's differential-evolution move (ter Braak 2006) with array acceptance, and its
    proposal with less overhead: the ordered pair (j, k), j != k, of complementary walkers drawn
    by ``randint`` (what ``RandomState.choice`` draws with) and the difference taken directly
    (not by ``np.diff``); the same numbers from the same random state."""

    def get_proposal(self, s, c, random):
        if _NONDIAGONAL_PAIRS is None:  # an emcee before 3.1.5 draws its pairs otherwise: its own proposal
            return super().get_proposal(s, c, random)
        c = c[0] if len(c) == 1 else np.concatenate(c, axis=0)
        ns = s.shape[0]
        pairs = _NONDIAGONAL_PAIRS(c.shape[0])
        chosen = pairs[random.randint(0, pairs.shape[0], size=ns)]
        gamma = self.g0 * (1 + self.sigma * random.randn(ns, 1))
        return s + gamma * (c[chosen[:, 1]] - c[chosen[:, 0]]), np.zeros(ns, dtype=np.float64)


class DESnookerMove(ArrayAcceptance, emcee.moves.DESnookerMove):
    """emcee's DE snooker move (ter Braak & Vrugt 2008) with array acceptance."""


class StretchMove(ArrayAcceptance, emcee.moves.StretchMove):
    """emcee's stretch move (Goodman & Weare 2010) with array acceptance."""


class EnsembleSampler(emcee.EnsembleSampler):
    """emcee's sampler for a vectorised log-probability returning an array: ln p in column 0
    (or a 1D array of ln p), the blob in column 1.

    The state of the random numbers is copied into each step's :class:`~emcee.State` (for the
    backend) only when the backend keeps it in a file to resume from: ``get_state`` costs
    ~70 us, a third of a step of 256 walkers, and emcee's in-memory backend needs no copy (a
    run continued in memory goes on with the generator itself, which is in that state)."""

    @property
    def random_state(self):
        if type(self.backend) is emcee.backends.Backend:
            return None
        return self._random.get_state()

    @random_state.setter
    def random_state(self, state):  # emcee's: set the generator, ignore what is not a state (None)
        emcee.EnsembleSampler.random_state.fset(self, state)

    def compute_log_prob(self, coords):
        if not np.all(np.isfinite(coords)):
            raise ValueError("At least one parameter value was infinite or NaN")
        values = np.asarray(self.log_prob_fn(coords), dtype=float)
        n = coords.shape[0]
        if values.shape == (n,):
            ln_p, blob = values.copy(), None
        elif values.ndim == 2 and values.shape[0] == n and values.shape[1] in (1, 2):
            ln_p = values[:, 0].copy()
            blob = values[:, 1].copy() if values.shape[1] == 2 else None
        else:
            raise ValueError(f"the log-probability must return (n,) or (n, 2) values, got shape {values.shape}")
        if np.any(np.isnan(ln_p)):
            raise ValueError("Probability function returned NaN")
        return ln_p, blob
