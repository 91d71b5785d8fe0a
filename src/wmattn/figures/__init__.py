"""Figures by stage; each function returns a matplotlib Figure (shared style: :mod:`wmattn.plots`)."""
