"""Likelihood terms, one module per experiment.  Each module registers its term(s) with
:func:`xfit.likelihood.register_term`; build them with :func:`xfit.likelihood.get_term`."""
