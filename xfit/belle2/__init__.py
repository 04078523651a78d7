"""The Belle II B+ -> K+ nu nubar published likelihood and its B+ -> K+ X reinterpretation.

Belle II, "Evidence for B+ -> K+ nu nubar decays", arXiv:2311.14647, Phys. Rev. D 109 (2024)
112006; likelihood and reinterpretation material: arXiv:2507.12393, HEPData ins2947386
(DOI 10.17182/hepdata.166082).

Modules (imported on demand, none loads data at import):

* :mod:`.files` -- locate, verify and download the workspace and the number densities;
* the HistFactory NLL and minimiser live in :mod:`xfit.histfactory`, all statistics (fits,
  test statistics, CLs, limits, results, the resumable store) in :mod:`xfit.inference`;
* :mod:`.fit` -- the definition of the SM fit (mu, HESSE error, significances vs mu = 0 and
  mu = 1);
* :mod:`.signal` -- B+ -> K+ X templates and the SM + X model;
* :mod:`.scan` -- the thin mass loop: best fit, local significance, CLs upper limits;
* the figures (scan, posterior) are drawn by :mod:`xfit.plots.belle2_scan` and
  :mod:`xfit.plots.belle2_posterior`.

See docs/belle2.md.
"""
