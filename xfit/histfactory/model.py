"""The compiled HistFactory model of a pyhf workspace: layout, data, templates, evaluation.

The model is exactly pyhf's (K. Cranmer et al., CERN-OPEN-2012-016; pyhf: L. Heinrich,
M. Feickert, G. Stark, K. Cranmer, JOSS 6 (2021) 2823): ``-nll(theta)`` equals
``pyhf.Model.logpdf(theta, data)``.  Parameter layout (order, slices, bounds, initial values,
fixed flags, constraint widths, auxiliary data, POI) is taken from ``pyhf.Model(spec).config``
for the chosen measurement, so parameter vectors compare 1:1 with pyhf's.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from ..errors import InputError
from . import evaluate, histosys, normsys
from . import kernel as kernels
from .compile import ModelBuilder, Sample, compile_model
from .constraints import Constraints
from .modifiers import interpolation_codes


@dataclass
class ExtraSample:
    """A sample added to the workspace model (not part of the workspace).

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

    ``spec``: a workspace (pyhf schema 1.0.0); ``extra_samples``: samples appended with their
    own normfactor (:class:`ExtraSample`); ``measurement``: measurement name (default: the
    first); ``poi``: overrides the measurement's POI; ``modifier_settings``: pyhf-style
    interpolation codes, e.g. ``{"normsys": {"interpcode": "code1"}}`` (accepted: normsys
    code4 (default), code1; histosys code4p (default), code0).

    Attributes: ``par_order``/``par_slices`` (pyhf's, plus appended extra parameters),
    ``npars``, ``init``, ``bounds`` (npars, 2), ``fixed`` (bool), ``poi_index``, ``poi_name``,
    ``par_names`` (one label per component, e.g. ``"staterror_sr[3]"``), ``observed`` (main
    bins in pyhf's channel order), ``auxdata`` (pyhf's auxdata order), ``nbins``,
    ``channels``, ``channel_nbins``, ``channel_offsets``, ``sample_rows``, ``pyhf_model``,
    ``workspace``, ``compiled`` (index arrays, :class:`~xfit.histfactory.compile.CompiledModel`).

    ``kernel``: "numpy", "numba" or "auto" (default: the ``XFIT_KERNEL`` environment variable,
    see :mod:`~xfit.histfactory.kernel`); the attribute ``kernel`` says which one is in use.
    Many-fit runs call :meth:`use_compiled_kernel`.
    """

    def __init__(
        self,
        spec: dict,
        extra_samples: list[ExtraSample] | tuple = (),
        measurement: str | None = None,
        poi: str | None = None,
        modifier_settings: dict | None = None,
        kernel: str | None = None,
    ):
        codes = interpolation_codes(modifier_settings)
        settings = {k: {"interpcode": v} for k, v in codes.items()}
        lay, spec_text, pair = self._layout(spec, measurement, poi, settings)
        self._pyhf_args = (spec_text, measurement, poi, settings)
        self._pyhf = [pair]  # (pyhf.Workspace, pyhf.Model) or None until needed; shared by copies
        self.interpolation_codes = codes
        self._normsys_factor = normsys.FUNCTIONS[codes["normsys"]]
        self._histosys_weights = histosys.FUNCTIONS[codes["histosys"]]
        self.channels = list(lay.channels)
        self.channel_nbins = dict(lay.channel_nbins)
        self.channel_offsets, o = {}, 0
        for c in self.channels:
            self.channel_offsets[c] = o
            o += self.channel_nbins[c]
        self.nbins = o

        self.par_order = list(lay.par_order)
        self.par_slices = {n: slice(*lay.par_slices[n]) for n in self.par_order}
        npars = lay.npars
        init = list(lay.init)
        bounds = [tuple(b) for b in lay.bounds]
        fixed = list(lay.fixed)
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
        self.poi_name = lay.poi_name
        self.poi_index = lay.poi_index
        self.par_names = list(lay.par_names) + [es.norm_parameter for es in extra_samples]
        self.layout = lay

        self.constraints = Constraints(lay.constraint_terms, self.par_slices)
        self.naux = self.constraints.naux
        self.compiled = compile_model(
            ModelBuilder(
                self.channels,
                self.channel_nbins,
                self.channel_offsets,
                self.par_slices,
                self._samples(spec, extra_samples),
            ),
            self.npars,
            self.nbins,
            self.par_order,
        )
        c = self.compiled
        self.nrows = c.nrows
        self.sample_rows = c.sample_rows
        self._nominal, self._histo_up, self._histo_dn = c.nominal, c.histo_up, c.histo_dn
        self._eval_cache = None  # first-order pieces of the last evaluation (see evaluate.evaluate)
        self.kernel, self._kernel = "numpy", None
        self.use_kernel(kernel)
        observed = {o["name"]: o["data"] for o in spec["observations"]}
        missing = [ch for ch in self.channels if ch not in observed]
        if missing:
            raise InputError(
                f"observations: no data for channel(s) {', '.join(map(repr, missing))}; "
                f"observations are given for {', '.join(map(repr, observed)) or 'none'}"
            )
        self.set_data(
            np.concatenate([np.asarray(observed[ch], float) for ch in self.channels]), np.asarray(lay.auxdata, float)
        )

    @staticmethod
    def _layout(spec, measurement, poi, settings):
        """(:class:`~.layout.Layout`, canonical spec JSON or None, (pyhf.Workspace, pyhf.Model) or
        None): from the layout cache when it has this content (no pyhf import, no validation),
        else from pyhf (then cached)."""
        from . import layout_cache
        from .layout import Layout
        from .workspace import pyhf_workspace_and_model

        text = layout_cache.spec_json(spec)
        if text is None:  # not JSON: no cache; pyhf validates it and says what is wrong
            pair = pyhf_workspace_and_model(spec, measurement, poi, settings)
            return Layout.from_pyhf_config(pair[1].config), None, pair
        digest = layout_cache.digest_of(text)
        key = layout_cache.model_key(digest, measurement, poi, settings)
        lay, pair = layout_cache.load(key), None
        if lay is None:
            pair = pyhf_workspace_and_model(spec, measurement, poi, settings, digest=digest)
            lay = Layout.from_pyhf_config(pair[1].config)
            layout_cache.store(key, digest, lay)
        return lay, text, pair

    def _build_pyhf(self):
        from .workspace import pyhf_workspace_and_model

        text, measurement, poi, settings = self._pyhf_args
        return pyhf_workspace_and_model(json.loads(text), measurement, poi, settings)

    @property
    def pyhf_model(self):
        """The ``pyhf.Model`` of the workspace (numpy backend), built on first use (for
        comparisons and stock fits); shared by copies made with :meth:`with_data`."""
        return self._pyhf_pair()[1]

    @property
    def workspace(self):
        """The ``pyhf.Workspace`` of the spec, built on first use (see :attr:`pyhf_model`)."""
        return self._pyhf_pair()[0]

    def _pyhf_pair(self):
        if self._pyhf[0] is None:
            self._pyhf[0] = self._build_pyhf()
        return self._pyhf[0]

    def _samples(self, spec, extra_samples) -> list[Sample]:
        chan_spec = {c["name"]: c for c in spec["channels"]}
        out = [
            Sample(c, s["name"], np.asarray(s["data"], float), list(s["modifiers"]))
            for c in self.channels
            for s in chan_spec[c]["samples"]
        ]
        for es in extra_samples:
            for c, tmpl in es.templates.items():
                if c not in self.channel_nbins:
                    raise InputError(
                        f"extra sample {es.name}: unknown channel {c!r}; channels: {', '.join(self.channels)}"
                    )
                mods = [{"type": "normfactor", "name": es.norm_parameter, "data": None}] + list(es.modifiers.get(c, []))
                out.append(Sample(c, es.name, np.asarray(tmpl, float), mods))
        return out

    # .. data ..............................................................................
    def set_data(self, observed, auxdata=None) -> None:
        """Set the main-bin counts (pyhf channel order) and optionally the auxiliary data."""
        obs = np.asarray(observed, dtype=float)
        if obs.shape != (self.nbins,):
            raise InputError(f"observed data need {self.nbins} bins, got shape {obs.shape}")
        if not np.all(np.isfinite(obs)) or np.any(obs < 0):
            bad = int(np.flatnonzero(~np.isfinite(obs) | (obs < 0))[0])
            raise InputError(f"observed counts must be finite and >= 0; bin {bad} (in pyhf's channel order) has "
                             f"{float(obs[bad]):g}")
        self.observed = obs
        self._eval_cache = None
        self._main_const = float(np.sum(gammaln(obs + 1.0)))
        if auxdata is not None:
            aux = np.asarray(auxdata, dtype=float)
            if aux.shape != (self.naux,):
                raise InputError(f"auxiliary data need {self.naux} values, got shape {aux.shape}")
            bad = ~np.isfinite(aux)
            bad[self.constraints.pois_aux_pos] |= aux[self.constraints.pois_aux_pos] < 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(f"auxiliary data must be finite (and >= 0 for Poisson constraints); value {i} "
                                 f"(in pyhf's auxdata order) is {float(aux[i]):g}")
            self.auxdata = aux
            self.constraints = copy.copy(self.constraints)  # copies made by with_data() keep their own
            self.constraints.set_aux(aux)

    def with_data(self, observed, auxdata=None) -> HistFactoryModel:
        """A shallow copy with other data (templates are shared until one is changed)."""
        other = copy.copy(self)
        other.set_data(observed, auxdata)
        return other

    def asimov_data(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """(main, aux) expected at ``theta``, as pyhf's ``expected_data`` (Asimov data set).

        Gaussian auxiliary data become theta, Poisson ones theta * tau.
        """
        theta = np.asarray(theta, dtype=float)
        return self.expected_main(theta), self.constraints.asimov(theta)

    # .. templates of extra samples .........................................................
    def set_sample_template(self, channel: str, sample: str, template) -> None:
        """Replace the nominal template of (channel, sample); relative histosys follow it."""
        rows = self.sample_rows[(channel, sample)]
        t = np.asarray(template, dtype=float)
        if t.shape != rows.shape:
            raise InputError(f"template for {sample} in {channel} needs {len(rows)} bins, got {t.shape}")
        self._eval_cache = None
        self._nominal = self._nominal.copy()  # copies made by with_data() keep their own templates
        self._nominal[rows] = t
        relative = self.compiled.histo_relative
        if (channel, sample) in relative:
            self._histo_up, self._histo_dn = self._histo_up.copy(), self._histo_dn.copy()
            for k, hi, lo in relative[(channel, sample)]:
                self._histo_up[k, rows] = (hi - 1.0) * t
                self._histo_dn[k, rows] = (1.0 - lo) * t

    # .. kernel ..............................................................................
    def use_kernel(self, choice: str | None = None) -> str:
        """Evaluate with the kernel ``choice`` ("numpy", "numba" or "auto"; default the
        ``XFIT_KERNEL`` environment variable), "auto" meaning numpy (a single fit does not pay
        numba's import); returns the kernel in use.  Copies made later share it."""
        return self._set_kernel(kernels.resolve(choice, many_fits=False))

    def use_compiled_kernel(self) -> str:
        """For runs of many fits: the numba kernel unless ``XFIT_KERNEL=numpy`` or (under
        ``auto``) numba is not installed; returns the kernel in use."""
        return self._set_kernel(kernels.resolve(None, many_fits=True))

    def _set_kernel(self, name: str) -> str:
        if name != self.kernel:
            self._kernel = kernels.make(self, name)
            self.kernel = name
        return name

    # .. evaluation .........................................................................
    def expected_rows(self, theta) -> np.ndarray:
        """Expected events per (sample, bin) row (internal row order; see ``sample_rows``)."""
        T, Q, _ = evaluate.pieces(self, np.asarray(theta, dtype=float), 0)
        return T * Q

    def expected_main(self, theta) -> np.ndarray:
        """Expected events per main bin (pyhf channel order): ``expected_actualdata``."""
        return evaluate.bin_sum(self, self.expected_rows(theta))

    def expected_by_sample(self, theta) -> dict[tuple[str, str], np.ndarray]:
        """Expected events of each (channel, sample)."""
        lam = self.expected_rows(theta)
        return {k: lam[rows] for k, rows in self.sample_rows.items()}

    def nll(self, theta) -> float:
        """-ln L(theta) with pyhf's full normalisation (= -pyhf logpdf); inf if a yield <= 0."""
        return evaluate.nll(self, np.asarray(theta, dtype=float))

    def logpdf(self, theta) -> float:
        """ln L(theta): compare with ``pyhf.Model.logpdf(theta, data)``."""
        return -self.nll(theta)

    def nll_and_grad(self, theta):
        """(-ln L, gradient) at ``theta``."""
        out = evaluate.evaluate(self, np.asarray(theta, dtype=float), hessian=False)
        return out[0], out[1]

    def nll_and_grad_many(self, thetas):
        """(-ln L, gradient) of each row of ``thetas`` (W, npars), in one pass: (W,), (W, npars)."""
        return evaluate.nll_and_grad_many(self, thetas)

    def nll_grad_hess(self, theta):
        """(-ln L, gradient, Hessian blocks) -- see :class:`~xfit.histfactory.HessianBlocks`."""
        return evaluate.evaluate(self, np.asarray(theta, dtype=float), hessian=True)

    def hessian(self, theta) -> np.ndarray:
        """The exact Hessian of -ln L as a dense (npars x npars) matrix."""
        return self.nll_grad_hess(theta)[2].dense()

    def index(self, name: str) -> int:
        """Index of a one-component parameter."""
        if name not in self.par_slices:
            raise InputError(f"no parameter {name!r} in the model")
        sl = self.par_slices[name]
        if sl.stop - sl.start != 1:
            raise InputError(f"parameter {name!r} has {sl.stop - sl.start} components")
        return sl.start

    @classmethod
    def from_workspace(
        cls, path_or_spec, measurement: str | None = None, poi: str | None = None, **kwargs
    ) -> HistFactoryModel:
        """The model of a workspace given as a JSON file path or a dict (see :func:`from_workspace`)."""
        from .workspace import load_spec

        return cls(load_spec(path_or_spec), measurement=measurement, poi=poi, **kwargs)
