"""Analysis files shipped with xfit (``xfit run FILE``); installed as ``xfit.analyses`` so that
``xfit reproduce fig3`` finds ``fig3.yaml`` in an installed package too."""
