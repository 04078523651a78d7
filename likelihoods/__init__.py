"""Likelihood terms that need code, one module each (b_to_s_emiss, belle2_knunu).

Every other term is built from its data file alone (``data/limits/*.yaml``, see
docs/data.md).  A module here registers its term with :func:`xfit.likelihood.register_term`;
the term's data file names the module (``implementation:``) and supplies its citation and plot
metadata.  Build terms with :func:`xfit.likelihood.get_term`."""
