"""wmattn: shared control of working-memory selection and attention.

Stages (one module each, coupled only through the files of DESIGN.md):
task -> simulate (+ rates) -> decode -> plots; io reads and writes the files.
"""
