"""Figure functions on small datasets: they run and label what the contract says."""

import numpy as np
import pytest
import xarray as xr

from wmattn import plots
from wmattn.task import DEFAULT_TIMING

TIME = np.arange(-400.0, 800.0, 100.0)
TASKS = ["retro", "pro"]


def decoding(rng):
    accuracy = 0.5 + 0.4 * (TIME >= 100) + 0.02 * rng.standard_normal((2, 2, len(TIME)))
    return xr.Dataset(
        {
            "accuracy": (("train_task", "test_task", "time"), accuracy),
            "accuracy_ci": (("ci_bound", "train_task", "test_task", "time"), np.stack([accuracy - 0.03, accuracy + 0.03])),
            "significant": (("train_task", "test_task", "time"), np.broadcast_to(TIME >= 100, accuracy.shape)),
            "generalization": (("train_task", "test_task", "train_time", "test_time"),
                               rng.uniform(0, 1, (2, 2, len(TIME), len(TIME)))),
        },
        coords={"train_task": TASKS, "test_task": TASKS, "time": TIME, "train_time": TIME, "test_time": TIME,
                "ci_bound": [0.025, 0.975]},
    )


@pytest.fixture
def decodings():
    rng = np.random.default_rng(0)
    return {region: decoding(rng) for region in ["LPFC", "V4", "extra"]}


def test_decoding_overview_has_a_column_per_region_and_a_row_per_training_task(decodings):
    fig = plots.decoding_overview(decodings)
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["LPFC", "V4", "extra"]
    for row, train in zip(axes, TASKS):
        assert train in row[0].get_ylabel()
        labels = [line.get_label() for line in row[1].get_lines() if not line.get_label().startswith("_")]
        assert labels == [f"train {train}, test {test} ({'within' if test == train else 'transfer'})" for test in TASKS]
    # Each region keeps its palette colour in the title.
    assert axes[0, 1].title.get_color() == plots.region_colours(decodings)["V4"]


def test_generalization_overview_shows_every_pair_for_every_region(decodings):
    fig = plots.generalization_overview(decodings)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 4 * 3
    assert "train retro, test pro" in images[3].get_ylabel()
    assert np.allclose(images[0].images[0].get_array(), decodings["LPFC"]["generalization"].sel(train_task="retro", test_task="retro"))


def test_task_timeline_draws_every_configured_epoch_with_the_cue_at_zero():
    fig = plots.task_timeline(DEFAULT_TIMING)
    ax = fig.axes[0]
    texts = [text.get_text() for text in ax.texts]
    for epochs in DEFAULT_TIMING.values():
        for epoch in list(epochs) + ["response"]:
            assert epoch.replace("_", " ") in texts
    cue_boxes = [patch for patch, text in zip([p for p in ax.patches if p.get_hatch() is None], ax.texts) if text.get_text() == "cue"]
    assert len(cue_boxes) == 2 and all(box.get_x() == 0 for box in cue_boxes)
    assert "cue onset" in ax.get_xlabel()


def test_region_colours_follow_the_given_order_and_differ():
    colours = plots.region_colours(["a", "b", "c", "d"])
    assert list(colours) == ["a", "b", "c", "d"] and len(set(colours.values())) == 4
    assert set(colours.values()).isdisjoint(plots.TASK_COLOURS.values())
