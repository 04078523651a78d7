"""Reproductions of the papers' figures (``xfit reproduce NAME``)."""
