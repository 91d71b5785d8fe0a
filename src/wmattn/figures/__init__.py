"""Every figure of the pipeline; each function returns a matplotlib Figure (``style.save`` writes it)."""
