"""Every figure of the pipeline, by stage; each function returns a matplotlib Figure (``style.save`` writes it)."""
