"""Export the SM + X model of the Belle II likelihood as a pyhf workspace and patch set.

So that anyone can check an SM + X fit with the tools the field already trusts, this module
writes the published workspace (HEPData ins2947386) plus the B+ -> K+ X sample of
:mod:`xfit.belle2.signal` at one mass as an ordinary pyhf workspace, and a pyhf
``PatchSet`` with one patch per mass of a grid (default: the 101 masses of ``xfit belle2
scan``).

* The X sample ``bkx`` is added to the three signal channels with a normfactor POI ``mu_X`` in
  units of :data:`EXPORT_UNIT` = 1e-6 of B(B+ -> K+ X) x P_inv (``data`` = expected events for
  B_X = 1e-6).  Its modifiers are those of :func:`xfit.belle2.signal.x_sample_modifiers`:
  relative histosys become absolute ``hi_data``/``lo_data`` (= ratio x template).
* The SM signal stays at mu = 1 (``fixed`` in the measurement) unless ``sm_free``.
* **staterror.**  pyhf derives a staterror constraint width from *all* samples sharing the
  modifier, sigma_b = sqrt(sum_s u_sb^2) / sum_s n_sb.  xfit's model keeps the published widths
  (the X template is a reweighting of the same simulated signal, whose per-bin MC uncertainty
  the gammas describe).  To give pyhf the same widths, the X sample's staterror ``data`` is
  u_X = sigma_b sqrt((n_b + n_X)^2 - n_b^2), which leaves sigma_b unchanged exactly.

With these conventions stock pyhf's -ln L of the exported workspace equals xfit's
:class:`~xfit.belle2.signal.KXModel` at the same point (tested, with mu_X(pyhf) = 10 mu_X(xfit),
whose unit is 1e-5).
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np

from ..errors import DataError, InputError
from . import files
from .signal import MX_NO_EFFICIENCY, X_PARAMETER, X_SAMPLE, x_sample_modifiers, x_templates

#: Unit of the exported POI mu_X: B(B+ -> K+ X) x P_inv = mu_X x 1e-6.
EXPORT_UNIT = 1e-6
#: Bounds of the exported POI (B_X <= 1e-2).
MU_X_BOUNDS = (0.0, 1e4)
WORKSPACE_NAME = "workspace.json"
PATCHSET_NAME = "patchset.json"


def _staterror_widths(channel: dict) -> dict[str, np.ndarray]:
    """{staterror name: (sum_s n, sqrt(sum_s u^2)) per bin} over the samples of a channel."""
    acc: dict[str, list[np.ndarray]] = {}
    for s in channel["samples"]:
        n = np.asarray(s["data"], float)
        for m in s["modifiers"]:
            if m["type"] == "staterror":
                tot, sq = acc.setdefault(m["name"], [np.zeros_like(n), np.zeros_like(n)])
                tot += n
                sq += np.asarray(m["data"], float) ** 2
    return {k: (v[0], np.sqrt(v[1])) for k, v in acc.items()}


def x_sample(channel: dict, template, modifiers: list[dict]) -> dict:
    """The pyhf sample of X in ``channel`` (template per unit mu_X, xfit-style modifiers)."""
    t = np.asarray(template, float)
    widths = _staterror_widths(channel)
    mods = [{"type": "normfactor", "name": X_PARAMETER, "data": None}]
    for m in modifiers:
        if m["type"] == "histosys" and m.get("relative"):
            hi = np.asarray(m["data"]["hi_data"], float) * t
            lo = np.asarray(m["data"]["lo_data"], float) * t
            mods.append({"type": "histosys", "name": m["name"],
                         "data": {"hi_data": hi.tolist(), "lo_data": lo.tolist()}})
        elif m["type"] == "staterror":
            total, unc = widths[m["name"]]
            if np.any((total <= 0) & (t > 0)):
                raise DataError(f"staterror {m['name']}: a bin with no nominal yield cannot carry the X sample")
            sigma = np.divide(unc, total, out=np.zeros_like(unc), where=total > 0)
            u_x = sigma * np.sqrt(np.maximum((total + t) ** 2 - total**2, 0.0))
            mods.append({"type": "staterror", "name": m["name"], "data": u_x.tolist()})
        else:
            mods.append(copy.deepcopy(m))
    return {"name": X_SAMPLE, "data": t.tolist(), "modifiers": mods}


def _x_samples(spec: dict, mX: float, width: float, densities) -> dict[str, dict]:
    names = files.channel_name_map(spec)
    by_name = {c["name"]: c for c in spec["channels"]}
    mods = x_sample_modifiers(spec)
    templates = x_templates(mX, width, densities)
    return {names[k]: x_sample(by_name[names[k]], t * EXPORT_UNIT, mods[names[k]]) for k, t in templates.items()}


def sm_plus_x_workspace(mX: float, width: float = 0.0, sm_free: bool = False, spec: dict | None = None,
                        densities=None) -> dict:
    """The published workspace plus the B+ -> K+ X sample at (mX, width), POI ``mu_X`` (unit 1e-6)."""
    if not (math.isfinite(float(mX)) and mX > 0):
        raise InputError(f"--mX must be a mass > 0 GeV, got {mX!r}")
    if width == 0 and mX >= MX_NO_EFFICIENCY:
        raise InputError(f"--mX {mX:g} GeV is above {MX_NO_EFFICIENCY:.3f} GeV, where the Belle II tables have no "
                         "signal efficiency (the X sample would be empty); give a lower --mX")
    base = files.load_workspace() if spec is None else spec
    densities = files.load_number_densities() if densities is None else densities
    ws = copy.deepcopy(base)
    if any(s["name"] == X_SAMPLE for c in ws["channels"] for s in c["samples"]):
        raise InputError(f"the workspace already has a sample {X_SAMPLE!r}")
    for c in ws["channels"]:
        if (s := _x_samples(base, mX, width, densities).get(c["name"])) is not None:
            c["samples"].append(s)
    for meas in ws["measurements"]:
        cfg = meas["config"]
        cfg["poi"] = X_PARAMETER
        params = [p for p in cfg.get("parameters", []) if p["name"] not in (X_PARAMETER, "mu")]
        params.append({"name": X_PARAMETER, "bounds": [list(MU_X_BOUNDS)], "inits": [0.0]})
        mu_cfg = next((p for p in cfg.get("parameters", []) if p["name"] == "mu"), {"name": "mu"})
        if not sm_free:
            params.append({**mu_cfg, "fixed": True, "inits": [1.0]})
        elif len(mu_cfg) > 1:  # the published settings of mu, if any
            params.append(mu_cfg)
        cfg["parameters"] = params
    return ws


def mass_patchset(masses, width: float = 0.0, sm_free: bool = False, base_workspace: dict | None = None,
                  spec: dict | None = None, densities=None) -> dict:
    """A pyhf PatchSet: one patch per mass replacing the X sample of ``base_workspace``."""
    import pyhf

    base = files.load_workspace() if spec is None else spec
    densities = files.load_number_densities() if densities is None else densities
    ws = base_workspace if base_workspace is not None else sm_plus_x_workspace(
        float(masses[0]), width, sm_free, base, densities)
    where = {}
    for ci, c in enumerate(ws["channels"]):
        for si, s in enumerate(c["samples"]):
            if s["name"] == X_SAMPLE:
                where[c["name"]] = (ci, si)
    patches = []
    for m in np.asarray(masses, float):
        samples = _x_samples(base, float(m), width, densities)
        ops = [{"op": "replace", "path": f"/channels/{ci}/samples/{si}", "value": samples[name]}
               for name, (ci, si) in where.items()]
        patches.append({"metadata": {"name": f"mX_{m:.4f}_GeV".replace(".", "p"), "values": [float(m)]}, "patch": ops})
    return {
        "metadata": {
            "name": "belle2_knunu_BtoKX_mass_scan",
            "description": ("B+ -> K+ X (X invisible) templates of xfit for the Belle II B+ -> K+ nu nubar "
                            f"likelihood; POI mu_X in units of {EXPORT_UNIT:g} of B(B+ -> K+ X) x P_inv; "
                            f"width {width:g} GeV; SM signal {'free' if sm_free else 'fixed at mu = 1'}"),
            "digests": {"sha256": pyhf.utils.digest(ws, algorithm="sha256")},
            "labels": ["mX_GeV"],
            "references": {"hepdata": files.HEPDATA_RECORD},
        },
        "patches": patches,
        "version": "1.0.0",
    }


def export_pyhf(out_dir: str | Path, mX: float, width: float = 0.0, sm_free: bool = False,
                masses=None) -> dict[str, Path]:
    """Write ``out_dir/workspace.json`` (X at mX) and ``out_dir/patchset.json`` (one patch per mass,
    default the grid of ``xfit belle2 scan``); both validated against pyhf's schemas."""
    import pyhf

    from .scan import default_masses

    ws = sm_plus_x_workspace(mX, width, sm_free)
    pyhf.Workspace(ws)  # schema validation
    masses = default_masses() if masses is None else masses
    ps = mass_patchset(masses, width, sm_free, base_workspace=ws)
    pyhf.schema.validate(ps, "patchset.json")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {str(out)[:80]!r} cannot be created ({exc.strerror}); give a writable directory") \
            from None
    paths = {"workspace": out / WORKSPACE_NAME, "patchset": out / PATCHSET_NAME}
    for key, obj in (("workspace", ws), ("patchset", ps)):
        tmp = paths[key].with_suffix(".json.tmp")
        tmp.write_text(json.dumps(obj, indent=1))
        tmp.replace(paths[key])
    return paths
