from itertools import product
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from wmattn.analysis.geometry import ccgp, parallelism_score, plane_cosine

DATA = Path(__file__).parent / "data"
N_NEURONS = 50


@pytest.fixture(autouse=True)
def one_blas_thread():
    # Hundreds of tiny fits: extra BLAS threads only contend, and on a busy
    # machine they slow these tests tenfold.
    with threadpool_limits(1):
        yield


def colour_planes(seed, noise=0.2):
    """Upper item, an aligned copy of it and an item in an orthogonal plane.

    Four colour bins on a ring of radius 10 Hz, each item's ring in its own
    2-D subspace of N_NEURONS neurons, plus independent noise; also returns an
    axis orthogonal to all three planes, for a location offset.
    """
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((N_NEURONS, 5)))
    angles = np.pi / 4 + np.arange(4) * np.pi / 2
    ring = 10 * np.column_stack([np.cos(angles), np.sin(angles)])

    def item(axes):
        return ring @ axes.T + rng.normal(0, noise, (4, N_NEURONS))

    return item(basis[:, :2]), item(basis[:, :2]), item(basis[:, 2:4]), basis[:, 4]


@pytest.mark.parametrize("seed", range(5))
def test_orthogonal_planes_are_at_90_degrees_and_aligned_planes_at_0(seed):
    upper, aligned, orthogonal, _ = colour_planes(seed)
    assert abs(plane_cosine(upper, orthogonal)) < 0.1
    assert abs(plane_cosine(upper, aligned)) > 0.98


def test_cosine_ignores_the_arrangement_of_colours_within_the_plane():
    upper, _, _, _ = colour_planes(0)
    assert abs(plane_cosine(upper, upper[::-1])) == pytest.approx(1)
    assert abs(plane_cosine(upper, np.roll(upper, 1, axis=0))) == pytest.approx(1)


def test_location_offset_forces_alignment_unless_each_item_is_centred():
    upper, _, orthogonal, location_axis = colour_planes(0)
    offset = 30 * location_axis
    # The offset takes one of the three components: the demo's recipe calls
    # orthogonal planes aligned; centring each item recovers the 90 degrees.
    assert abs(plane_cosine(upper + offset, orthogonal - offset)) > 0.9
    assert abs(plane_cosine(upper + offset, orthogonal - offset, center_each=True)) < 0.1


def _matlab_pca_coeff(X):
    """MATLAB ``pca(X)`` coefficients, via an eigendecomposition of the covariance."""
    centred = X - X.mean(axis=0)
    variance, coeff = np.linalg.eigh(centred.T @ centred)
    coeff = coeff[:, np.argsort(variance)[::-1]]
    # MATLAB makes the largest-magnitude element of each column positive.
    for k in range(coeff.shape[1]):
        if coeff[np.argmax(np.abs(coeff[:, k])), k] < 0:
            coeff[:, k] *= -1
    return coeff


def _blade(v1, v2, v3, v4):
    return np.linalg.det([[v1 @ v3, v1 @ v4], [v2 @ v3, v2 @ v4]])


def planes_demo_reference(dat):
    """The authors' planesDemo.m, step by step."""
    score = (dat - dat.mean(axis=0)) @ _matlab_pca_coeff(dat)
    up = _matlab_pca_coeff(score[:4, :3])
    dn = _matlab_pca_coeff(score[4:, :3])
    return _blade(up[:, 0], up[:, 1], dn[:, 0], dn[:, 1]) / np.sqrt(
        _blade(up[:, 0], up[:, 1], up[:, 0], up[:, 1]) * _blade(dn[:, 0], dn[:, 1], dn[:, 0], dn[:, 1])
    )


def test_reproduces_the_authors_planes_demo():
    dat = scipy.io.loadmat(DATA / "planesDemo.mat")["dat"]
    assert dat.shape == (8, 380)
    reference = planes_demo_reference(dat)
    # No value is published: the demo prints the cosine to two decimals.
    assert f"{reference:.2f}" == "0.13"
    assert plane_cosine(dat[:4], dat[4:]) == pytest.approx(reference, abs=1e-10)
    assert np.degrees(np.arccos(plane_cosine(dat[:4], dat[4:]))) == pytest.approx(82.39, abs=0.01)


LEVELS = np.array(list(product([0, 1], repeat=3)))  # 8 conditions of 3 binary variables


def trials(condition_means, rng, n_per_condition=15, noise=1.0):
    condition = np.repeat(np.arange(len(condition_means)), n_per_condition)
    X = condition_means[condition] + rng.normal(0, noise, (len(condition), condition_means.shape[1]))
    return X, condition


def empirical_means(X, condition):
    return np.array([X[condition == c].mean(axis=0) for c in np.unique(condition)])


def abstract_population(seed):
    """Three binary variables, each coded along its own axis, added (factorised)."""
    rng = np.random.default_rng(seed)
    return trials(LEVELS @ rng.standard_normal((3, N_NEURONS)), rng)


def unstructured_population(seed):
    """Eight conditions at random points, with a random half-split as the dichotomy."""
    rng = np.random.default_rng(seed)
    X, condition = trials(rng.normal(0, np.sqrt(2 / N_NEURONS), (8, N_NEURONS)), rng)
    side = np.isin(np.arange(8), rng.permutation(8)[:4])
    return X, condition, side


def test_abstract_variable_has_high_ccgp_and_parallelism():
    X, condition = abstract_population(0)
    side = LEVELS[:, 0] == 1
    assert ccgp(X, side[condition], condition, LogisticRegression()) > 0.9
    assert parallelism_score(empirical_means(X, condition), side) > 0.8


def test_xor_of_abstract_variables_is_not_abstract():
    X, condition = abstract_population(0)
    side = LEVELS[:, 0] != LEVELS[:, 1]
    assert ccgp(X, side[condition], condition, LogisticRegression()) < 0.5
    assert parallelism_score(empirical_means(X, condition), side) < 0.3


def test_unstructured_conditions_are_at_chance():
    scores = []
    for seed in range(4):
        X, condition, side = unstructured_population(seed)
        scores.append(ccgp(X, side[condition], condition, LogisticRegression()))
        assert parallelism_score(empirical_means(X, condition), side) < 0.3
    assert np.mean(scores) == pytest.approx(0.5, abs=0.1)


def test_parallelism_finds_the_best_pairing():
    X, condition = abstract_population(0)
    side = LEVELS[:, 0] == 1
    means = empirical_means(X, condition)
    # Reorder the False side so that no condition keeps its partner.
    reordered = means.copy()
    reordered[~side] = np.roll(means[~side], 1, axis=0)
    assert parallelism_score(reordered, side) == pytest.approx(parallelism_score(means, side))


class PerTimeBin(BaseEstimator):
    """One clone of ``base`` per time bin; predict returns (n_trials, n_times)."""

    def __init__(self, base):
        self.base = base

    def fit(self, X, y):
        self.fitted_ = [clone(self.base).fit(X[:, :, t], y) for t in range(X.shape[2])]
        return self

    def predict(self, X):
        return np.stack([fitted.predict(X[:, :, t]) for t, fitted in enumerate(self.fitted_)], axis=1)


def test_time_axis_gives_one_score_per_bin():
    X_abstract, condition = abstract_population(0)
    X_unstructured, _, _ = unstructured_population(0)
    X = np.stack([X_abstract, X_unstructured], axis=2)
    side = LEVELS[:, 0] == 1
    per_bin = ccgp(X, side[condition], condition, PerTimeBin(LogisticRegression()))
    assert per_bin.shape == (2,)
    for t in range(2):
        assert per_bin[t] == pytest.approx(ccgp(X[:, :, t], side[condition], condition, LogisticRegression()))
    means = empirical_means(X, condition)
    np.testing.assert_allclose(
        parallelism_score(means, side), [parallelism_score(means[:, :, t], side) for t in range(2)]
    )


def test_ccgp_accepts_string_labels():
    X, condition = abstract_population(0)
    side = np.where(LEVELS[:, 0] == 1, "upper", "lower")
    assert ccgp(X, side[condition], condition, LogisticRegression()) > 0.9


@pytest.mark.parametrize(
    "side, condition, message",
    [
        ([0, 0, 1, 1, 0, 1], [0, 1, 2, 3, 2, 0], "both sides"),
        ([0, 0, 1, 1, 0, 1], [0, 0, 2, 3, 0, 3], "at least 2 per side"),
        ([0, 1, 2, 0, 1, 2], [0, 1, 2, 3, 4, 5], "exactly two values"),
        ([0, 0, 1, 1], [0, 1, 2, 3], "one entry per trial"),
    ],
)
def test_ccgp_rejects_bad_dichotomies(side, condition, message):
    X = np.zeros((6, 3))
    with pytest.raises(ValueError, match=message):
        ccgp(X, np.array(side), np.array(condition), LogisticRegression())


@pytest.mark.parametrize(
    "n_conditions, side, message",
    [
        (4, [True, True, True, False], "in half"),
        (2, [True, False], "at least 2 conditions"),
        (4, [True, False, True], "one entry per condition"),
        (4, ["upper", "lower", "upper", "lower"], "boolean"),
    ],
)
def test_parallelism_rejects_bad_sides(n_conditions, side, message):
    means = np.random.default_rng(0).standard_normal((n_conditions, 5))
    with pytest.raises(ValueError, match=message):
        parallelism_score(means, side)


@pytest.mark.parametrize(
    "means_b, n_components, message",
    [
        (np.ones((4, 7)), 3, "same shape"),
        (np.ones((4, 6)), 2, "at least 3"),
    ],
)
def test_plane_cosine_rejects_bad_input(means_b, n_components, message):
    with pytest.raises(ValueError, match=message):
        plane_cosine(np.ones((4, 6)), means_b, n_components=n_components)


def test_ccgp_across_contexts_ignores_the_mixed_splits_of_a_2x2_design():
    """A shared cued axis and an orthogonal task axis of the same strength."""
    rng = np.random.default_rng(11)
    cued_axis, task_axis = np.linalg.qr(rng.standard_normal((N_NEURONS, 2)))[0].T * 4
    side = np.tile([0, 1], 100)
    task = np.repeat([0, 1], 100)
    X = np.outer(side - 0.5, cued_axis) + np.outer(task - 0.5, task_axis) + 0.3 * rng.standard_normal((200, N_NEURONS))
    estimator = LogisticRegression()
    assert ccgp(X, side, 2 * task + side, estimator, context=task) > 0.9
    assert ccgp(X, side, 2 * task + side, estimator) < 0.85  # mixed splits learn the task axis too
