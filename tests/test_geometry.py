from itertools import product
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import xarray as xr
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from wmattn.analysis.colour import color_bin
from wmattn.analysis.geometry import ccgp, condition_means, parallelism_score, plane_alignment, plane_cosine

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


# Colour planes in epoch windows (plane_alignment): synthetic sessions whose rates code each
# item's colour (cosine and sine) in a 2-D subspace chosen per task, time bin, item and cue status.
TIME = np.array([-250.0, 550.0, 1700.0])  # before selection; after it in retro; after it in pro
WINDOWS = {"retro": {"before_selection": [-500, 0], "after_selection": [300, 800]},
           "pro": {"after_selection": [1400, 2000]}}
SUBSPACES = ("upper", "lower", "shared", "retro", "pro", "tilt")


def coded_sessions(seed, layout, n_sessions=2, n_trials=160, n_neurons=30, gain=1.0, cos_angle=None):
    """Sessions of one region; ``layout(task, time_index, item, is_cued)`` names the item's subspace (None: not coded).

    Each session has its own neurons and ``n_trials`` trials, a quarter per
    task x cued location, colours uniform. Noise is independent, 1 Hz per
    neuron; the subspaces are orthogonal, each of the two axes spans the
    population with norm sqrt(n/2). ``cos_angle`` adds a subspace
    ``tilted`` that shares one axis with ``shared`` and whose other axis is
    at that cosine with the other one: the true |cos| of the two planes.
    """
    rng = np.random.default_rng(seed)
    total = n_sessions * n_neurons
    basis = np.linalg.qr(rng.standard_normal((total, 2 * len(SUBSPACES))))[0] * np.sqrt(total / 2)
    spaces = {name: basis[:, 2 * k:2 * k + 2] for k, name in enumerate(SUBSPACES)}
    if cos_angle is not None:
        spaces["tilted"] = np.column_stack([spaces["shared"][:, 0], cos_angle * spaces["shared"][:, 1]
                                            + np.sqrt(1 - cos_angle**2) * spaces["tilt"][:, 0]])
    sessions = []
    for k in range(n_sessions):
        task = np.repeat(["retro", "pro"], n_trials // 2)
        cued = np.tile(np.repeat(["upper", "lower"], n_trials // 4), 2)
        colors = {item: rng.uniform(0, 2 * np.pi, n_trials) for item in ("upper", "lower")}
        rate = 5 + rng.standard_normal((n_trials, n_neurons, len(TIME)))
        own = slice(k * n_neurons, (k + 1) * n_neurons)
        for t, item, name, location in product(range(len(TIME)), colors, ("retro", "pro"), ("upper", "lower")):
            space = layout(name, t, item, location == item)
            rows = (task == name) & (cued == location)
            if space is not None:
                ring = np.column_stack([np.cos(colors[item][rows]), np.sin(colors[item][rows])])
                rate[rows, :, t] += gain * ring @ spaces[space][own].T
        sessions.append(xr.Dataset(
            {"rate": (("trial", "neuron", "time"), rate.astype("float32"))},
            coords={"time": TIME, "task": ("trial", task), "cued": ("trial", cued),
                    "color_upper": ("trial", colors["upper"]), "color_lower": ("trial", colors["lower"])}))
    return sessions


def each_item_at_its_location(task, t, item, is_cued):
    return item


def one_shared_subspace(task, t, item, is_cued):
    return "shared"


def no_colour_code(task, t, item, is_cued):
    return None


def selected_into(subspace):
    """Before selection each item at its location; after it the cued item in ``subspace(task)``."""
    return lambda task, t, item, is_cued: subspace(task) if t > 0 and is_cued else item


WITHIN_TASK = ["retro/before_selection/upper_lower", "retro/before_selection/cued", "retro/before_selection/uncued",
               "retro/after_selection/upper_lower", "retro/after_selection/cued", "retro/after_selection/uncued",
               "pro/after_selection/upper_lower", "pro/after_selection/cued", "pro/after_selection/uncued"]
OTHER_LOCATION, SAME_LOCATION = ("retro-pro/after_selection/cross_task_cued_other_location",
                                 "retro-pro/after_selection/cross_task_cued_same_location")


def test_planes_in_orthogonal_subspaces_are_near_orthogonal_and_not_above_their_null():
    result = plane_alignment(coded_sessions(0, each_item_at_its_location), WINDOWS, rng=1).sel(plane_pair=WITHIN_TASK)
    assert (result["plane_cosine"] < 0.3).all()
    assert (result["plane_p_value"] > 0.2).all()
    assert (result["plane_cosine"] < result["plane_cosine_null"].quantile(0.95, "shuffle")).all()


def test_planes_in_one_subspace_are_aligned_above_their_null():
    result = plane_alignment(coded_sessions(0, one_shared_subspace), WINDOWS, rng=1)
    assert (result["plane_cosine"] > 0.75).all()
    assert (result["plane_p_value"] < 0.05).all()
    assert (result["plane_cosine"] > result["plane_cosine_null"].quantile(0.95, "shuffle")).all()


def test_the_shuffle_test_keeps_its_level_on_data_without_colour_code():
    """Location and task signals and neurons of unequal noise, but no colour code: p <= 0.05 at most 5 % + 2 SE."""
    windows = {task: {"after_selection": WINDOWS[task]["after_selection"]} for task in WINDOWS}
    p_values = []
    for seed in range(150):
        rng = np.random.default_rng(seed)
        rates, = coded_sessions(seed, no_colour_code, n_sessions=1, n_trials=128, n_neurons=12)
        spread = rng.lognormal(0, 0.7, rates.sizes["neuron"])
        offset = rng.normal(0, 2, (2, 2, rates.sizes["neuron"]))
        signal = offset[(rates["task"] == "pro").to_numpy().astype(int), (rates["cued"] == "lower").to_numpy().astype(int)]
        rates["rate"] = rates["rate"] * spread[:, None] + signal[:, :, None]
        # 19 shuffles: p <= 0.05 only when the data beat every shuffle, an exact 5 % test
        p_values.append(plane_alignment([rates], windows, n_bootstrap=2, n_shuffles=19, n_splits=1, rng=seed)["plane_p_value"])
    p_values = np.array(p_values)
    assert np.isfinite(p_values).mean() > 0.99
    rate = (p_values <= 0.05).mean()
    # the comparisons of one dataset share its trials, so the standard error counts datasets only
    assert rate <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / len(p_values))
    assert (p_values <= 0.05).mean(axis=0).max() <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / len(p_values))


@pytest.mark.parametrize("cos_angle", [1.0, 0.8])
def test_the_bootstrap_interval_holds_the_true_cosine(cos_angle):
    """Cued planes at a known angle; |cos| is biased by noise (down here), the interval must still cover."""
    def layout(task, t, item, is_cued):
        return ("shared" if item == "upper" else "tilted") if is_cued else item

    windows = {"retro": {"after_selection": WINDOWS["retro"]["after_selection"]}}
    covered = []
    for seed in range(20):
        result = plane_alignment(coded_sessions(seed, layout, cos_angle=cos_angle), windows,
                                 n_bootstrap=100, n_shuffles=1, n_splits=1, rng=seed)
        low, high = result["plane_cosine_ci"].sel(plane_pair="retro/after_selection/cued").values
        covered.append(low <= cos_angle <= high)
    # measured 0.94 and 0.92 over 100 datasets (percentile intervals: 0.00 and 0.53); 20 give at least
    # 16 with probability 0.98
    assert np.mean(covered) >= 0.8


@pytest.mark.parametrize("layout, other_location_aligned", [
    (selected_into(lambda task: "shared"), True),  # both tasks select into one location-independent subspace
    (selected_into(lambda task: task), False),  # each task into its own
    (each_item_at_its_location, False),  # no selection: a stable memory code
], ids=["one_selected_subspace", "one_per_task", "memory_only"])
def test_the_cross_task_test_finds_one_selected_subspace_only_when_planted(layout, other_location_aligned):
    result = plane_alignment(coded_sessions(0, layout), WINDOWS, rng=1)
    other = result.sel(plane_pair=OTHER_LOCATION)
    assert (other["plane_p_value"] < 0.05) == other_location_aligned
    assert (other["plane_cosine"] > 0.7) == other_location_aligned
    if layout is not each_item_at_its_location:
        # either way, each task's own selected items share a subspace after selection
        assert (result["plane_p_value"].sel(plane_pair=["retro/after_selection/cued", "pro/after_selection/cued"]) < 0.05).all()
    if layout is each_item_at_its_location:
        # a stable memory code aligns each location with itself across the tasks: the reference
        assert result["plane_p_value"].sel(plane_pair=SAME_LOCATION) < 0.05


def test_a_task_without_a_window_has_no_comparison_there():
    windows = {"retro": {"early": [-500, 0], "late": [300, 800]}, "pro": {"late": [1400, 2000]}}
    result = plane_alignment(coded_sessions(0, each_item_at_its_location), windows, n_bootstrap=5, n_shuffles=5, n_splits=1, rng=1)
    within = [f"{task}/{window}/{pair}" for task, window in [("retro", "early"), ("retro", "late"), ("pro", "late")]
              for pair in ("upper_lower", "cued", "uncued")]
    assert list(result["plane_pair"].values) == within + [
        "retro-pro/late/cross_task_cued_other_location", "retro-pro/late/cross_task_cued_same_location"]
    cross = result.sel(plane_pair="retro-pro/late/cross_task_cued_other_location")
    assert (cross["task_a"], cross["task_b"], cross["window_a"], cross["window_b"]) == ("retro", "pro", "late", "late")
    only_retro = plane_alignment(coded_sessions(0, each_item_at_its_location), {"retro": windows["retro"]},
                                 n_bootstrap=5, n_shuffles=5, n_splits=1, rng=1)
    assert list(only_retro["plane_pair"].values) == within[:6]


def test_the_same_seed_gives_identical_output():
    sessions = coded_sessions(0, selected_into(lambda task: "shared"))
    first, second, other = (plane_alignment(sessions, WINDOWS, n_bootstrap=20, n_shuffles=20, n_splits=5, rng=seed)
                            for seed in (3, 3, 4))
    xr.testing.assert_identical(first, second)
    assert not np.array_equal(first["plane_cosine_null"], other["plane_cosine_null"])
    xr.testing.assert_equal(first["plane_cosine"], other["plane_cosine"])  # the data's value takes no draw


@pytest.mark.parametrize("windows, message", [
    ({"pro": {"late": [5000, 6000]}}, r"pro/late \[5000, 6000\] ms holds no time bin"),
    ({"pro": {"late": [2000, 1400]}}, "pro/late must be"),
    ({"retro": {"late": 300}}, "retro/late must be"),
    ({"memory": {"late": [300, 800]}}, "unknown task.*'memory'"),
])
def test_a_bad_window_is_refused_by_name(windows, message):
    with pytest.raises(ValueError, match=message):
        plane_alignment(coded_sessions(0, no_colour_code, n_sessions=1), windows, n_bootstrap=2, n_shuffles=2, n_splits=1)


def test_the_data_value_is_the_plane_cosine_of_the_windows_condition_means():
    sessions = coded_sessions(0, selected_into(lambda task: "shared"))
    result = plane_alignment(sessions, WINDOWS, n_bootstrap=2, n_shuffles=2, n_splits=1, rng=0)
    means = []
    for item in ("upper", "lower"):
        masks = [np.concatenate([(rates["task"] == "pro").values & (rates["cued"] == item).values
                                 & (color_bin(rates[f"color_{item}"].values) == b) for rates in sessions]) for b in range(4)]
        means.append(condition_means(sessions, masks)[:, :, 2])  # the one bin in [1400, 2000]
    expected = abs(plane_cosine(*means, center_each=True))
    assert float(result["plane_cosine"].sel(plane_pair="pro/after_selection/cued")) == pytest.approx(expected, abs=1e-12)


def test_neurons_lacking_a_condition_are_left_out_and_too_few_give_nan(capsys):
    sessions = coded_sessions(0, one_shared_subspace, n_neurons=4)
    first = sessions[0]
    # the first session loses its pro trials of one upper colour bin
    sessions[0] = first.isel(trial=~((first["task"] == "pro") & (color_bin(first["color_upper"]) == 0)).values)
    result = plane_alignment(sessions, WINDOWS, n_bootstrap=5, n_shuffles=5, n_splits=2, rng=0)
    n_neurons = result["plane_n_neurons"].to_series()
    retro = n_neurons.index.str.startswith("retro/")
    # every pro comparison has an upper-item plane; the second session's neurons are kept
    assert (n_neurons[retro] == 8).all() and (n_neurons[~retro] == 4).all()
    sessions[1] = sessions[1].isel(neuron=slice(0, 2))
    result = plane_alignment(sessions, WINDOWS, n_bootstrap=5, n_shuffles=5, n_splits=2, rng=0)
    assert result["plane_cosine"].sel(plane_pair=retro).notnull().all()
    assert result["plane_cosine"].sel(plane_pair=~retro).isnull().all()
    assert result["plane_p_value"].sel(plane_pair=~retro).isnull().all()
    assert "pro/after_selection/upper_lower: NaN, 2 neuron(s) have every condition" in capsys.readouterr().out


def test_single_item_trials_are_left_out():
    sessions = coded_sessions(0, one_shared_subspace)
    extra = coded_sessions(1, no_colour_code, n_trials=40)
    mixed = [xr.concat([rates.assign_coords(n_items=("trial", np.full(rates.sizes["trial"], 2))),
                        more.assign_coords(n_items=("trial", np.ones(more.sizes["trial"], int)))], "trial")
             for rates, more in zip(sessions, extra)]
    kwargs = dict(n_bootstrap=10, n_shuffles=10, n_splits=2, rng=0)
    xr.testing.assert_identical(plane_alignment(mixed, WINDOWS, **kwargs), plane_alignment(sessions, WINDOWS, **kwargs))


def test_the_ceiling_is_what_one_plane_measured_twice_gives():
    """Every plane in one subspace: each comparison at its ceiling; orthogonal: far below it; no plane: split half at the null."""
    def summary(layout):
        results = [plane_alignment(coded_sessions(seed, layout), WINDOWS, n_bootstrap=2, n_shuffles=50, n_splits=20, rng=seed)
                   for seed in range(3)]
        return xr.concat(results, "dataset").mean("dataset")

    shared = summary(one_shared_subspace)
    assert abs(shared["plane_cosine"] - shared["plane_cosine_ceiling"]).max() < 0.05
    assert (shared["plane_cosine_split_half"] < shared["plane_cosine"] - 0.05).all()  # half the trials, more noise
    orthogonal = summary(each_item_at_its_location).sel(plane_pair=WITHIN_TASK)
    assert (orthogonal["plane_cosine"] < orthogonal["plane_cosine_ceiling"] - 0.5).all()
    colourless = summary(no_colour_code)
    assert abs(colourless["plane_cosine_split_half"] - colourless["plane_cosine_null"].mean("shuffle")).max() < 0.05
