import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.stats import kstest

from wmattn.analysis.stats import cluster_mass_test, permutation_p_values


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
