"""Can the decoding tell the network variants apart? Train, decode, reduce to signatures, classify.

The comparison names a region's nearest network variant; that only means
something if the variants themselves, decoded the same way, have signatures
that differ more between variants than between instances of one. This
trains every variant with several seeds, decodes each network's hidden
states like a region (:func:`wmattn.analysis.region.decode_region`),
reduces each to its decoding signature (:func:`wmattn.compare.signature`,
without behaviour), and assigns every instance to the variant whose other
instances' mean signature is nearest (leave one out). Used by
``tests/test_recovery.py`` on a small network and by
``benchmarks/network_recovery.py`` on the default one.
"""

import time

import numpy as np

from wmattn import seeds
from wmattn.analysis.region import decode_region
from wmattn.attention import evaluate, train
from wmattn.compare import common_measures, distance, measure_scales, signature
from wmattn.io import model_as_rates
from wmattn.task import generate_trials

COLOUR_WINDOWS = {"retro": [300, 800], "pro": [1400, 2000]}  # the schema's after_selection plane windows


def network_signature(settings, seed, n_per_condition, decoding, colour_windows=None, single_item_fraction=0.2,
                      progress=print):
    """Train one network, decode it on held-out trials and return its signature.

    Parameters
    ----------
    settings : dict
        :func:`wmattn.attention.train`'s config (with ``selection`` and ``dt_ms``).
    seed : int
        The instance: seeds training, held-out trials, noise and decoding.
    n_per_condition : int
        Held-out two-item trials per task x cued location.
    decoding : dict
        Keyword arguments of :func:`~wmattn.analysis.region.decode_region`
        (``n_folds``, ``n_permutations``, ...).
    colour_windows : dict, optional
        ``{task: [start_ms, end_ms]}`` (default :data:`COLOUR_WINDOWS`).
    """
    started = time.perf_counter()
    model, _ = train(settings, seeds.integer_seed(seed, "recovery", "train"),
                     single_item_fraction=single_item_fraction, progress=lambda line: None)
    trained = time.perf_counter() - started
    trials = generate_trials(n_per_condition, seeds.rng(seed, "recovery", "held-out"))
    attention = evaluate(model, trials, settings["dt_ms"], rng_seed=seeds.integer_seed(seed, "recovery", "noise"))
    decoded = decode_region(model_as_rates(attention), **decoding, seed=seeds.seed_sequence(seed, "recovery", "decode"))
    progress(f"{settings['selection']} seed {seed}: trained in {trained:.0f} s, decoded in "
             f"{time.perf_counter() - started - trained:.0f} s, median error "
             f"{np.degrees(float(attention['error'].median())):.1f} deg")
    return signature(decoded, COLOUR_WINDOWS if colour_windows is None else colour_windows)


def leave_one_out(signatures):
    """Each instance's nearest variant, its own instance left out of its variant's mean.

    ``signatures`` maps a variant's name to its instances' signatures. Only
    measures every instance defines are compared. Returns the same mapping
    with the predicted variant of every instance.
    """
    every = [sig for instances in signatures.values() for sig in instances]
    measures = common_measures(every)
    scale = measure_scales(every[0].sel(measure=measures))
    values = {name: np.array([sig["value"].sel(measure=measures).to_numpy() for sig in instances])
              for name, instances in signatures.items()}
    predicted = {}
    for name, instances in values.items():
        predicted[name] = []
        for k, instance in enumerate(instances):
            centroids = {other: np.delete(rows, k, axis=0).mean(axis=0) if other == name else rows.mean(axis=0)
                         for other, rows in values.items()}
            predicted[name].append(min(centroids, key=lambda other: distance(instance, centroids[other], scale)))
    return predicted
