import numpy as np
import pytest

from wmattn.task import DEFAULT_TIMING, N_COLORS, epoch_names, generate_trials


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
