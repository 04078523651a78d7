"""Small workspaces for the HistFactory tests, using every modifier type.

``toy_workspace()``: three channels; staterror ``stat`` shared by the channels ``sr`` and
``cr``; a bin with no expected and no observed events; shapesys with a zero-uncertainty bin (pyhf fixes that gamma); lumi with auxdata and
sigma from the measurement config; a fixed normsys; custom bounds and inits; shapefactor;
normsys and histosys sharing a name; a one-bin staterror; two measurements with other POIs.
"""
from __future__ import annotations

import copy

import numpy as np


def toy_workspace() -> dict:
    return copy.deepcopy(_TOY)


_TOY = {
    "version": "1.0.0",
    "channels": [
        {"name": "sr", "samples": [
            {"name": "signal", "data": [4.0, 9.0, 3.0], "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None},
                {"name": "lumi", "type": "lumi", "data": None},
                {"name": "sig_theory", "type": "normsys", "data": {"hi": 1.08, "lo": 0.95}},
                {"name": "jes", "type": "histosys", "data": {"hi_data": [4.6, 9.5, 2.9], "lo_data": [3.5, 8.2, 3.3]}},
                {"name": "jes", "type": "normsys", "data": {"hi": 1.05, "lo": 0.97}},
            ]},
            {"name": "bkg", "data": [40.0, 30.0, 22.0], "modifiers": [
                {"name": "lumi", "type": "lumi", "data": None},
                {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.8}},
                {"name": "jes", "type": "histosys", "data": {"hi_data": [43.0, 31.0, 21.0], "lo_data": [38.0, 29.5, 23.5]}},
                {"name": "stat", "type": "staterror", "data": [3.0, 2.5, 2.0]},
                {"name": "bkg_shape", "type": "shapesys", "data": [4.0, 0.0, 3.0]},
            ]},
            {"name": "other", "data": [5.0, 6.0, 7.0], "modifiers": [
                {"name": "stat", "type": "staterror", "data": [1.0, 1.5, 1.2]},
                {"name": "other_norm", "type": "normsys", "data": {"hi": 1.3, "lo": 0.6}},
                {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.92}},
            ]},
        ]},
        {"name": "cr", "samples": [
            {"name": "bkg", "data": [100.0, 80.0], "modifiers": [
                {"name": "lumi", "type": "lumi", "data": None},
                {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.8}},
                {"name": "stat", "type": "staterror", "data": [6.0, 5.0]},
                {"name": "cr_free", "type": "shapefactor", "data": None},
            ]},
            {"name": "other", "data": [3.0, 2.0], "modifiers": [
                {"name": "stat", "type": "staterror", "data": [0.8, 0.6]},
                {"name": "other_norm", "type": "normsys", "data": {"hi": 1.3, "lo": 0.6}},
            ]},
            {"name": "qcd", "data": [20.0, 10.0], "modifiers": [
                {"name": "k_qcd", "type": "normfactor", "data": None},
                {"name": "qcd_shape", "type": "histosys", "data": {"hi_data": [24.0, 11.0], "lo_data": [17.0, 9.5]}},
            ]},
        ]},
        {"name": "empty", "samples": [  # a bin without expected or observed events
            {"name": "qcd", "data": [0.0, 3.0], "modifiers": [
                {"name": "k_qcd", "type": "normfactor", "data": None},
                {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.8}},
            ]},
        ]},
        {"name": "side", "samples": [
            {"name": "qcd", "data": [50.0], "modifiers": [
                {"name": "k_qcd", "type": "normfactor", "data": None},
                {"name": "side_stat", "type": "staterror", "data": [4.0]},
            ]},
        ]},
    ],
    "observations": [
        {"name": "empty", "data": [0, 2]},
        {"name": "sr", "data": [52, 47, 30]},
        {"name": "cr", "data": [118, 95]},
        {"name": "side", "data": [57]},
    ],
    "measurements": [
        {"name": "main", "config": {"poi": "mu", "parameters": [
            {"name": "lumi", "auxdata": [1.0], "sigmas": [0.04], "bounds": [[0.7, 1.3]], "inits": [1.0]},
            {"name": "mu", "bounds": [[0.0, 8.0]], "inits": [0.5]},
            {"name": "k_qcd", "bounds": [[0.2, 4.0]], "inits": [1.3]},
            {"name": "sig_theory", "fixed": True},
            {"name": "cr_free", "bounds": [[0.3, 3.0], [0.3, 3.0]], "inits": [1.1, 0.9]},
        ]}},
        {"name": "qcd_norm", "config": {"poi": "k_qcd", "parameters": [
            {"name": "lumi", "auxdata": [1.02], "sigmas": [0.1], "bounds": [[0.5, 1.5]], "inits": [1.0]},
        ]}},
    ],
}


def random_points(model, n: int, seed: int = 1, spread: float = 2.5):
    """Parameter vectors inside the bounds: alphas (bounds -5..5) uniform in +-spread (but
    |alpha| > 0.02, away from the kinks of code0/code1), factors within 0.6..1.5 of their
    initial value, free normalisations within their bounds."""
    rng = np.random.default_rng(seed)
    lo, hi = model.bounds[:, 0], model.bounds[:, 1]
    out = []
    for _ in range(n):
        th = model.init.copy()
        for name in model.par_order:
            sl = model.par_slices[name]
            k = sl.stop - sl.start
            if lo[sl.start] < 0:  # alpha-like
                a = rng.uniform(0.02, spread, k) * rng.choice([-1.0, 1.0], k)
                th[sl] = a
            elif name == model.poi_name:
                th[sl] = rng.uniform(max(lo[sl.start], 0.1), min(hi[sl.start], 5.0), k)
            else:
                th[sl] = np.clip(model.init[sl] * rng.uniform(0.6, 1.5, k), lo[sl] + 1e-3, hi[sl] - 1e-3)
        out.append(th)
    return out


def five_point_gradient(f, x, h=1e-3):
    """Derivatives of f by the 5-point central stencil (error O(h^4)): the gradient for a scalar
    f, the matrix d f_j / d x_i (row i) for a vector f."""
    x = np.asarray(x, float)
    g = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g.append((8 * (f(x + e) - f(x - e)) - (f(x + 2 * e) - f(x - 2 * e))) / (12 * h))
    return np.array(g)
