"""Fitting the circuit to a recording's decoding: simulation-based inference (the ``infer`` stage).

Draws of the circuit's parameters from a configured prior (:mod:`.prior`) are
simulated with the sampling of the data being fitted (:mod:`.sampling`),
reduced to summary statistics of their decoding (:mod:`.summaries`,
:mod:`.draws`), and a neural posterior estimator of the ``sbi`` library is
trained on them and checked by simulation-based calibration (:mod:`.posterior`).
"""
