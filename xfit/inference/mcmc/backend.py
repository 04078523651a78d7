"""The chain file: emcee's HDF5 backend, made resumable bit for bit and crash-consistent,
with the run's settings stored next to the chain."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ...errors import DataError

#: bump when the meaning of the stored settings changes (old files are then not resumed);
#: 2: the model is stored as :meth:`xfit.models.Model.describe` (with the W-loop normalisation)
CHAIN_FORMAT = 2


def checkpointed_backend_class():
    """The class :class:`CheckpointedHDFBackend` (built on first use: emcee and h5py load lazily)."""
    import time

    import emcee
    import h5py

    class CheckpointedHDFBackend(emcee.backends.HDFBackend):
        """emcee's HDF5 backend, made cheaper and crash-consistent.

        * Steps are written in batches, at least every ``checkpoint_seconds`` (and at the
          end of a run, or on an exception such as Ctrl-C): emcee's backend opens the file
          several times per step, which costs as much as the likelihood here.
        * Everything needed to continue is stored *per step* (rows): positions, ln p, ln L,
          the random-number state after the step and the running acceptance counts.  The
          ``iteration`` attribute is written last and marks how many rows are valid, so a
          kill in the middle of a write loses at most that batch, never the consistency
          between the stored state and the random numbers that follow it.
        """

        _EXTRA = ("random_key", "random_pos", "random_has_gauss", "random_gauss", "accepted_total")

        def __init__(self, filename, name="mcmc", checkpoint_seconds: float = 1.0):
            super().__init__(filename, name=name)
            self.checkpoint_seconds = float(checkpoint_seconds)
            self._buffer: list = []
            self._last = time.monotonic()

        def grow(self, ngrow, blobs):
            self.flush()
            super().grow(ngrow, blobs)
            with h5py.File(self.filename, "a") as f:
                g = f[self.name]
                ntot = int(g.attrs["iteration"]) + ngrow
                nwalkers = int(g.attrs["nwalkers"])
                shapes = {"random_key": ((624,), np.uint32), "random_pos": ((), np.int64),
                          "random_has_gauss": ((), np.int64), "random_gauss": ((), np.float64),
                          "accepted_total": ((nwalkers,), np.float64)}
                for key, (shape, dtype) in shapes.items():
                    if key not in g:
                        g.create_dataset(key, (ntot, *shape), maxshape=(None, *shape), dtype=dtype)
                    elif g[key].shape[0] < ntot:
                        g[key].resize(ntot, axis=0)

        def save_step(self, state, accepted):
            self._buffer.append((np.array(state.coords, dtype=float), np.array(state.log_prob, dtype=float),
                                 None if state.blobs is None else np.array(state.blobs),
                                 np.asarray(accepted, dtype=float), state.random_state))
            if time.monotonic() - self._last >= self.checkpoint_seconds:
                self.flush()

        def flush(self) -> None:
            buf, self._buffer = self._buffer, []
            self._last = time.monotonic()
            if not buf:
                return
            with h5py.File(self.filename, "a") as f:
                g = f[self.name]
                it, n = int(g.attrs["iteration"]), len(buf)
                rows = slice(it, it + n)
                g["chain"][rows] = np.stack([b[0] for b in buf])
                g["log_prob"][rows] = np.stack([b[1] for b in buf])
                if buf[0][2] is not None:
                    g["blobs"][rows] = np.stack([b[2] for b in buf])
                base = g["accepted_total"][it - 1] if it > 0 else np.zeros(len(buf[0][3]))
                g["accepted_total"][rows] = base + np.cumsum([b[3] for b in buf], axis=0)
                g["random_key"][rows] = np.stack([np.asarray(b[4][1], dtype=np.uint32) for b in buf])
                g["random_pos"][rows] = [int(b[4][2]) for b in buf]
                g["random_has_gauss"][rows] = [int(b[4][3]) for b in buf]
                g["random_gauss"][rows] = [float(b[4][4]) for b in buf]
                g.attrs["iteration"] = it + n  # the commit: rows < iteration are valid

        # reads see the buffered steps too, and use the per-step rows
        def get_value(self, *args, **kwargs):
            self.flush()
            return super().get_value(*args, **kwargs)

        @property
        def iteration(self):
            self.flush()
            return super().iteration

        def _last_rows(self) -> dict:
            """The per-step rows of the last stored step ({} before the first)."""
            self.flush()
            with self.open() as f:
                g = f[self.name]
                it = int(g.attrs["iteration"])
                return {k: g[k][it - 1] for k in self._EXTRA if k in g} if it > 0 else {}

        @property
        def accepted(self):
            rows = self._last_rows()
            return rows["accepted_total"] if "accepted_total" in rows else super().accepted

        @property
        def random_state(self):
            r = self._last_rows()
            if "random_key" not in r:
                return super().random_state
            return ("MT19937", r["random_key"], int(r["random_pos"]), int(r["random_has_gauss"]),
                    float(r["random_gauss"]))

    return CheckpointedHDFBackend




def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else str(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


def normalise_settings(settings: dict) -> dict:
    """``settings`` as they read back from the chain file's JSON (for comparison)."""
    return json.loads(json.dumps(_jsonable(settings), sort_keys=True))


def read_chain_settings(path: str | Path) -> tuple[dict | None, int]:
    """(settings stored by xfit or None, number of stored steps) of a chain file."""
    import h5py

    def corrupt(problem: str) -> DataError:
        return DataError(f"chain file {path} is not a readable xfit chain ({problem}); "
                         "delete it or start afresh (--overwrite)")

    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("xfit_settings")
            settings = None if raw is None else json.loads(raw if isinstance(raw, str) else raw.decode())
            it = int(f["mcmc"].attrs.get("iteration", 0)) if "mcmc" in f else 0
            if it > 0:
                g = f["mcmc"]
                for key in ("chain", "log_prob", "accepted_total", "random_key"):
                    rows = g[key].shape[0] if key in g and g[key].shape else 0
                    if rows < it:
                        raise corrupt(f"iteration {it} but only {rows} stored rows of {key!r}")
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise corrupt(f"{exc.__class__.__name__}: {exc}") from None
    if settings is not None and not isinstance(settings, dict):
        raise corrupt(f"its settings are a {type(settings).__name__}, not a mapping")
    if it < 0:
        raise corrupt(f"negative iteration {it}")
    return settings, it


