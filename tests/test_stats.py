import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.stats import kstest, ttest_1samp

from wmattn.analysis.stats import cluster_mass_one_sample, cluster_mass_paired, cluster_mass_test, permutation_p_values


def smooth_noise(rng, shape, sigma_bins=3.0):
    """Unit-variance white noise smoothed along the last (time) axis."""
    x = gaussian_filter1d(rng.standard_normal(shape), sigma_bins, axis=-1)
    return x / x.std()


def test_p_values_count_ties_and_the_observation():
    null = np.array([[0.4], [0.5], [0.6]])
    np.testing.assert_allclose(permutation_p_values([0.5], null), [(1 + 2) / 4])
    np.testing.assert_allclose(permutation_p_values([0.7], null), [1 / 4])


def test_p_values_are_uniform_under_exchangeability():
    rng = np.random.default_rng(0)
    n_permutations, n_datasets, n_time = 999, 100, 20
    # Every element has its own location and scale, so a p-value computed
    # against the wrong element's null would not be uniform.
    location = rng.uniform(0.4, 0.9, (n_datasets, n_time))
    scale = rng.uniform(0.01, 0.1, (n_datasets, n_time))
    data = location + scale * rng.standard_normal((n_permutations + 1, n_datasets, n_time))
    p = permutation_p_values(data[0], data[1:])
    assert p.shape == (n_datasets, n_time)
    ks = kstest(p.ravel(), "uniform")
    print(f"KS p = {ks.pvalue:.3f}")
    assert ks.pvalue > 0.01


def test_cluster_test_controls_family_wise_error_with_autocorrelated_noise():
    rng = np.random.default_rng(1)
    n_permutations, n_datasets, n_time = 99, 400, 40
    data = smooth_noise(rng, (n_permutations + 1, n_datasets, n_time))
    result = cluster_mass_test(data[0], data[1:])
    false_positive_rate = result.significant.any(axis=-1).mean()
    print(f"family-wise false-positive rate = {false_positive_rate:.4f}")
    assert false_positive_rate <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / n_datasets)
    # Uncorrected bins would fire in most datasets: the correction does the work.
    assert (permutation_p_values(data[0], data[1:]) <= 0.05).any(axis=-1).mean() > 0.2


def test_cluster_test_finds_a_planted_bump_and_only_above_the_null():
    rng = np.random.default_rng(2)
    n_permutations, n_time = 199, 60
    data = smooth_noise(rng, (n_permutations + 1, 2, n_time))
    bump = np.zeros(n_time)
    bump[25:35] = 4.0
    observed = data[0] + np.array([bump, -bump])
    result = cluster_mass_test(observed, data[1:])
    up, down = result.significant
    assert up[25:35].all()
    assert not up[:20].any() and not up[40:].any()
    assert result.cluster_p[0, 30] < 0.05
    # One-sided: accuracy below the null is no evidence of information.
    assert not down.any()


def test_cluster_test_treats_every_time_course_separately():
    rng = np.random.default_rng(3)
    data = smooth_noise(rng, (100, 2, 3, 30))
    observed = data[0].copy()
    observed[1, 2, 10:18] += 5.0
    result = cluster_mass_test(observed, data[1:])
    assert result.significant.shape == result.cluster_p.shape == (2, 3, 30)
    assert result.significant[1, 2, 10:18].all()
    assert not np.delete(result.significant.reshape(6, 30), 5, axis=0).any()
    # Clusters never run from the end of one time course into the next.
    for index in np.ndindex(2, 3):
        alone = cluster_mass_test(observed[index], data[(slice(1, None), *index)])
        np.testing.assert_array_equal(result.cluster_p[index], alone.cluster_p)
    # A bin outside every cluster has no cluster p-value.
    assert np.isnan(result.cluster_p[~(permutation_p_values(observed, data[1:]) <= 0.05)]).all()


@pytest.mark.parametrize("test", [permutation_p_values, cluster_mass_test])
@pytest.mark.parametrize(
    ("observed_shape", "null_shape"),
    [((2, 10), (50, 2, 9)), ((2, 10), (50, 20)), ((10,), (10,)), ((10,), (0, 10))],
)
def test_mismatched_shapes_are_refused(test, observed_shape, null_shape):
    with pytest.raises(ValueError, match="null"):
        test(np.zeros(observed_shape), np.zeros(null_shape))


@pytest.mark.parametrize("test", [permutation_p_values, cluster_mass_test])
def test_non_finite_values_are_refused(test):
    observed = np.zeros(10)
    observed[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        test(observed, np.zeros((5, 10)))


def false_positive_bound(n_datasets, level=0.05):
    return level + 2 * np.sqrt(level * (1 - level) / n_datasets)


def test_family_correction_controls_the_four_courses_together():
    rng = np.random.default_rng(4)
    n_permutations, n_datasets, n_time = 99, 400, 30
    # (permutation, dataset, train_task, test_task, time); the four courses of
    # a dataset share a component, as decoders of one region's trials do.
    data = smooth_noise(rng, (n_permutations + 1, n_datasets, 2, 2, n_time))
    data = 0.6 * data + 0.4 * smooth_noise(rng, (n_permutations + 1, n_datasets, 1, 1, n_time))
    family = cluster_mass_test(data[0], data[1:], family_axes=(1, 2)).significant.any(axis=(1, 2, 3)).mean()
    per_course = cluster_mass_test(data[0], data[1:]).significant.any(axis=(1, 2, 3)).mean()
    print(f"false-positive rate over four courses: family-wise {family:.4f}, per course {per_course:.4f}")
    assert family <= false_positive_bound(n_datasets) < per_course


def test_family_correction_still_finds_a_planted_effect():
    rng = np.random.default_rng(5)
    data = smooth_noise(rng, (200, 2, 2, 40))
    observed = data[0].copy()
    observed[1, 0, 15:25] += 4.0
    result = cluster_mass_test(observed, data[1:], family_axes=(0, 1))
    assert result.significant[1, 0, 15:25].all()
    assert not np.delete(result.significant.reshape(4, 40), 2, axis=0).any()
    # Correcting together never calls more than correcting each course alone.
    alone = cluster_mass_test(observed, data[1:])
    assert (result.cluster_p[np.isfinite(result.cluster_p)] >= alone.cluster_p[np.isfinite(alone.cluster_p)]).all()


def test_family_axes_refuse_the_time_axis():
    with pytest.raises(ValueError, match="family_axes"):
        cluster_mass_test(np.zeros((2, 10)), np.zeros((5, 2, 10)), family_axes=(1,))


def test_one_sample_t_clusters_and_masses_on_hand_built_data():
    # Every column is the same unit-spread sample shifted by its mean, so t = mean * sqrt(10).
    base = np.random.default_rng(6).standard_normal(10)
    base = (base - base.mean()) / base.std(ddof=1)
    shift = np.array([0, 1, 1, -1, -1, 0.1, 1, 0])
    x = base[:, None] + shift
    result = cluster_mass_one_sample(x, n_permutations=200, rng=0)
    np.testing.assert_allclose(result.t, shift * np.sqrt(10), atol=1e-12)
    np.testing.assert_allclose(result.t, ttest_1samp(x, 0).statistic, atol=1e-12)
    # A positive and an adjacent negative run are two clusters (bwlabel would join them, their masses cancelling).
    np.testing.assert_array_equal(result.cluster, [0, 1, 1, 2, 2, 0, 3, 0])
    expected = np.where(result.cluster == 0, np.nan, np.array([0, 2, 2, -2, -2, 0, 1, 0]) * np.sqrt(10))
    np.testing.assert_allclose(result.mass, expected, atol=1e-12)
    assert np.isnan(result.cluster_p[result.cluster == 0]).all()
    # The observation is one of the permutations: p is never below 1 / (1 + n_permutations).
    strong = cluster_mass_one_sample(base[:, None] + np.full(5, 10.0), n_permutations=50, rng=0)
    np.testing.assert_array_equal(strong.cluster_p, np.full(5, 1 / 51))


def test_one_sample_t_omits_missing_values_per_bin():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((12, 6)) + 0.5
    x[[0, 3], 1] = np.nan
    x[:11, 4] = np.nan  # one value left: no t
    x[:, 5] = 2.0  # no spread: no t
    result = cluster_mass_one_sample(x, n_permutations=10, rng=0)
    np.testing.assert_allclose(result.t[:4], ttest_1samp(x[:, :4], 0, nan_policy="omit").statistic)
    assert np.isnan(result.t[4:]).all() and (result.cluster[4:] == 0).all()


def test_one_sample_test_controls_false_positives_and_finds_planted_effects():
    rng = np.random.default_rng(8)
    n_samples, n_datasets, n_time = 15, 400, 30
    # (sample, dataset, time): the datasets are independent courses, each tested on its own.
    null = smooth_noise(rng, (n_samples, n_datasets, n_time), sigma_bins=2.0)
    result = cluster_mass_one_sample(null, n_permutations=200, rng=1)
    false_positive_rate = result.significant.any(axis=-1).mean()
    uncorrected = (np.abs(result.t) > 2.145).any(axis=-1).mean()  # t(14) two-sided 5 %
    print(f"one-sample false-positive rate = {false_positive_rate:.4f} (uncorrected bins: {uncorrected:.4f})")
    assert false_positive_rate <= false_positive_bound(n_datasets)
    assert uncorrected > 0.2

    planted = null[:, :4].copy()
    planted[:, 0, 10:20] += 1.5
    planted[:, 1, 10:20] -= 1.5
    found = cluster_mass_one_sample(planted, n_permutations=200, rng=1)
    assert found.significant[:2, 10:20].all()  # both signs: two-sided
    assert not found.significant[:, :5].any() and not found.significant[:, 25:].any()
    assert not found.significant[2:].any()


def test_one_sided_test_keeps_its_level_on_right_skewed_null_data_and_looks_one_way():
    rng = np.random.default_rng(12)
    n_samples, n_datasets, n_time = 20, 300, 20
    skewed = rng.exponential(1.0, (n_samples, n_datasets, n_time)) - 1  # mean 0, skewness 2
    right = cluster_mass_one_sample(skewed, 200, rng=1, tail="right").significant.any(axis=-1).mean()
    both = cluster_mass_one_sample(skewed, 200, rng=1).significant.any(axis=-1).mean()
    print(f"false-positive rate on skewed null data: right-tailed {right:.4f}, two-sided {both:.4f}")
    assert right <= false_positive_bound(n_datasets)
    bumps = smooth_noise(rng, (n_samples, 2, 30))
    bumps[:, 0, 10:20] += 1.5
    bumps[:, 1, 10:20] -= 1.5
    found = cluster_mass_one_sample(bumps, 200, rng=1, tail="right").significant
    assert found[0, 10:20].all() and not found[1].any()
    with pytest.raises(ValueError, match="tail"):
        cluster_mass_one_sample(bumps, 10, tail="greater")


def test_paired_test_keeps_its_level_when_pairs_share_a_large_offset():
    rng = np.random.default_rng(9)
    n_samples, n_datasets, n_time, n_permutations = 15, 300, 30, 200
    # x_i and y_i share a large offset in every bin (e.g. a neuron's firing, common to its cued and uncued values).
    shared = 10 * rng.standard_normal((n_samples, n_datasets, n_time))
    x = shared + smooth_noise(rng, (n_samples, n_datasets, n_time), sigma_bins=2.0)
    y = shared + smooth_noise(rng, (n_samples, n_datasets, n_time), sigma_bins=2.0)
    ours = cluster_mass_paired(x, y, n_permutations, rng=1)
    false_positive_rate = ours.significant.any(axis=-1).mean()

    # clusterMassDependent.m's null: all 2n rows shuffled between the conditions, pairs broken.
    rows = np.concatenate([x, y])
    null = np.empty((n_permutations, n_datasets))
    for k in range(n_permutations):
        order = rng.permutation(2 * n_samples)
        shuffled = cluster_mass_paired(rows[order[:n_samples]], rows[order[n_samples:]], 1, rng=0)
        null[k] = np.nan_to_num(np.abs(shuffled.mass)).max(axis=-1)
    row_shuffle_p = (1 + (null[..., None] >= np.abs(ours.mass)).sum(axis=0)) / (1 + n_permutations)
    row_shuffle_rate = (np.isfinite(ours.mass) & (row_shuffle_p < 0.05)).any(axis=-1).mean()
    print(f"paired false-positive rate: within-pair swaps {false_positive_rate:.4f}, row shuffles {row_shuffle_rate:.4f}")
    assert false_positive_rate <= false_positive_bound(n_datasets) < row_shuffle_rate


def test_paired_test_is_the_one_sample_test_of_differences_and_finds_a_planted_one():
    rng = np.random.default_rng(10)
    shared = 5 * rng.standard_normal((20, 1, 40))
    x = shared + smooth_noise(rng, (20, 2, 40))
    y = shared + smooth_noise(rng, (20, 2, 40))
    x[:, 0, 20:30] += 1.5
    result = cluster_mass_paired(x, y, 300, rng=3)
    for got, expected in zip(result, cluster_mass_one_sample(x - y, 300, rng=3)):
        np.testing.assert_array_equal(got, expected)
    assert result.significant[0, 20:30].all() and not result.significant[1].any()
    with pytest.raises(ValueError, match="same shape"):
        cluster_mass_paired(x, y[:-1])


def test_sample_cluster_tests_repeat_with_a_seed():
    x = smooth_noise(np.random.default_rng(11), (10, 3, 20)) + 0.3
    first, second = (cluster_mass_one_sample(x, 100, rng=5) for _ in range(2))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
