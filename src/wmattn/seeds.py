"""One seed in the config; every stage derives its own stream from it.

Streams are keyed by names (stage, region), not by position, so adding a region
leaves every other region's stream, and so its results, unchanged.
"""

import zlib

import numpy as np


def seed_sequence(seed, *keys):
    """A ``numpy.random.SeedSequence`` for ``seed`` and string ``keys``."""
    return np.random.SeedSequence([seed, *(zlib.crc32(key.encode()) for key in keys)])


def rng(seed, *keys):
    """A ``numpy.random.Generator`` for ``seed`` and string ``keys``."""
    return np.random.default_rng(seed_sequence(seed, *keys))


def integer_seed(seed, *keys):
    """A 31-bit integer for libraries that take one (Brian2, scikit-learn)."""
    return int(seed_sequence(seed, *keys).generate_state(1)[0] >> 1)
