"""The variants can be told apart by their decoding alone (issue: recovery), on small networks.

Ten instances of each variant, trained briefly on the task (100 steps of 16 trials at 100 ms a step:
most report with median errors of 8-25 degrees, a few do not learn), decoded like a region and
reduced to their decoding signature; every instance is assigned to the variant whose other instances' mean
signature is nearest. ``benchmarks/network_recovery.py`` does the same with the default network.
"""

import numpy as np
import pytest

from wmattn.recovery import leave_one_out, network_signature

SMALL = {"hidden_size": 16, "batch_size": 16, "n_steps": 100, "learning_rate": 0.01, "dt_ms": 100}
DECODING = {"n_folds": 3, "n_permutations": 50, "n_bootstrap": 50, "n_shuffles": 20, "n_cluster_permutations": 100}
SEEDS = range(10)
VARIANTS = ("shared", "task_specific")


@pytest.fixture(scope="module")
def signatures():
    return {variant: [network_signature({**SMALL, "selection": variant}, seed, 24, DECODING, progress=print)
                      for seed in SEEDS] for variant in VARIANTS}


def test_each_variant_is_recognised_in_at_least_9_of_10_seeds(signatures):
    predicted = leave_one_out(signatures)
    for variant in VARIANTS:
        assert sum(label == variant for label in predicted[variant]) >= 9, predicted


def test_shuffled_variant_labels_are_not_recognised(signatures):
    """The negative control: with each instance's label drawn at random, recognition falls to chance."""
    rng = np.random.default_rng(0)
    instances = [sig for variant in VARIANTS for sig in signatures[variant]]
    labels = rng.permutation(np.repeat(VARIANTS, len(SEEDS)))
    shuffled = {variant: [sig for sig, label in zip(instances, labels) if label == variant] for variant in VARIANTS}
    predicted = leave_one_out(shuffled)
    correct = sum(label == variant for variant in VARIANTS for label in predicted[variant])
    assert correct <= 14  # of 20; binomial(20, 0.5) exceeds 14 with probability 0.02


def test_only_the_shared_variants_code_transfers(signatures):
    for variant, expected in (("shared", True), ("task_specific", False)):
        gi = [float(sig["value"].sel(measure="gi_delay_retro_to_pro")) for sig in signatures[variant]]
        assert (np.nanmedian(gi) > 0.5) == expected, gi
