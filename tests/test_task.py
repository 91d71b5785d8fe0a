import numpy as np
import pytest

from wmattn.task import DEFAULT_TIMING, N_COLORS, epoch_names, generate_trials, spread, trial_coordinates


@pytest.fixture
def trials():
    return generate_trials(40, np.random.default_rng(1))


@pytest.mark.parametrize("task", ["retro", "pro"])
def test_epochs_follow_the_table_in_order_and_length(trials, task):
    rows = trials[trials["task"] == task]
    epochs = list(DEFAULT_TIMING[task]) + ["response"]
    onsets = rows[[f"onset_{epoch}" for epoch in epochs]].to_numpy()
    assert np.all(onsets[:, 0] == 0)
    lengths = np.diff(onsets, axis=1)
    for k, epoch in enumerate(DEFAULT_TIMING[task]):
        low, high = np.broadcast_to(DEFAULT_TIMING[task][epoch], 2)
        assert np.all((lengths[:, k] >= low - 1e-9) & (lengths[:, k] <= high + 1e-9)), epoch
        if low < high:  # jittered epochs really vary
            assert lengths[:, k].std() > (high - low) / 10, epoch
    absent = set(epoch_names(DEFAULT_TIMING)) - set(epochs)
    assert rows[[f"onset_{epoch}" for epoch in absent]].isna().all().all()


def test_cue_comes_before_the_samples_on_pro_trials_and_after_on_retro(trials):
    before = trials["onset_cue"] < trials["onset_samples"]
    assert before[trials["task"] == "pro"].all()
    assert not before[trials["task"] == "retro"].any()


def test_conditions_are_balanced_and_shuffled(trials):
    counts = trials.groupby(["task", "cued"]).size()
    assert len(counts) == 4 and (counts == 40).all()
    assert trials["task"].iloc[:40].nunique() == 2


def test_colours_lie_on_the_64_step_wheel(trials):
    steps = np.concatenate([trials["color_upper"], trials["color_lower"]]) / (2 * np.pi / N_COLORS)
    assert np.allclose(steps, np.round(steps))
    assert steps.min() >= 0 and steps.max() < N_COLORS
    assert len(np.unique(steps)) > 50


def test_same_seed_gives_identical_trials_and_another_seed_does_not():
    first = generate_trials(10, np.random.default_rng(5))
    assert first.equals(generate_trials(10, np.random.default_rng(5)))
    assert not first.equals(generate_trials(10, np.random.default_rng(6)))


def test_single_item_trials_come_on_top_balanced_and_make_the_fraction_asked():
    trials = generate_trials(40, np.random.default_rng(2), single_item_fraction=0.2)
    single = trials["n_items"] == 1
    assert set(trials["n_items"]) == {1, 2} and single.mean() == 0.2  # 40 of 200
    # n_per_condition keeps its meaning: two-item trials of every task x cued location
    assert (trials[~single].groupby(["task", "cued"]).size() == 40).all()
    assert (trials[single].groupby(["task", "cued"]).size() == 10).all()
    # where the fraction does not divide evenly: rounded, and no condition more than one ahead
    odd = generate_trials(6, np.random.default_rng(2), single_item_fraction=0.2)
    per_condition = odd[odd["n_items"] == 1].groupby(["task", "cued"]).size()
    assert per_condition.sum() == 6 and per_condition.max() - per_condition.min() == 1


def test_a_single_item_trial_shows_the_cued_item_only():
    trials = generate_trials(30, np.random.default_rng(3), single_item_fraction=0.2)
    upper = (trials["cued"] == "upper").to_numpy()
    cued = np.where(upper, trials["color_upper"], trials["color_lower"])
    uncued = np.where(upper, trials["color_lower"], trials["color_upper"])
    single = (trials["n_items"] == 1).to_numpy()
    assert np.isfinite(cued).all()
    assert np.isnan(uncued[single]).all() and np.isfinite(uncued[~single]).all()
    # both tasks have them, and the task's epochs are those of its two-item trials
    assert set(trials["task"][single]) == {"retro", "pro"}
    assert trials.filter(like="onset_").notna().sum(axis=1).groupby(trials["task"]).nunique().eq(1).all()
    coords = trial_coordinates(trials)
    np.testing.assert_array_equal(coords["n_items"][1], trials["n_items"])


def test_single_item_trials_are_drawn_from_the_seed_and_none_changes_nothing():
    first = generate_trials(10, np.random.default_rng(5), single_item_fraction=0.2)
    assert first.equals(generate_trials(10, np.random.default_rng(5), single_item_fraction=0.2))
    without = generate_trials(10, np.random.default_rng(5), single_item_fraction=0.0)
    assert (without["n_items"] == 2).all() and without.equals(generate_trials(10, np.random.default_rng(5)))


def test_a_total_is_spread_evenly_and_the_remainders_passed_round():
    assert spread(10, 4).tolist() == [3, 3, 2, 2]
    assert spread(10, 4, start=3).tolist() == [3, 2, 2, 3]
    assert sum(spread(10, 4, start=k) for k in range(4)).tolist() == [10] * 4
