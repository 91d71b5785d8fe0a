"""Figure functions on small datasets: they run and label what the contract says."""

import matplotlib.patches
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wmattn.figures import decoding as plots_decoding, geometry as plots_geometry, model as plots_model, style as plots_style, task as plots_task
from wmattn.task import DEFAULT_TIMING

TIME = np.arange(-400.0, 800.0, 100.0)
TASKS = ["retro", "pro"]


def epoch_onset():
    """Retro samples 1.2-1.6 s before the cue and responses at 0.6-0.7 s; pro samples at 0.5-0.6 s, no response in view."""
    onsets = np.full((2, 3, 3), np.nan)
    onsets[0, 0], onsets[0, 2] = [-1600, -1400, -1200], [600, 650, 700]
    onsets[1, 0] = [500, 550, 600]
    onsets[:, 1] = 0
    return xr.DataArray(onsets, dims=("task", "epoch", "onset_statistic"),
                        coords={"task": TASKS, "epoch": ["samples", "cue", "response"], "onset_statistic": ["min", "median", "max"]})


def decoding(rng):
    accuracy = 0.5 + 0.4 * (TIME >= 100) + 0.02 * rng.standard_normal((2, 2, len(TIME)))
    return xr.Dataset(
        {
            "epoch_onset": epoch_onset(),
            "null": (("permutation", "train_task", "test_task", "time"), 0.5 + 0.05 * rng.standard_normal((20, 2, 2, len(TIME)))),
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
    fig = plots_decoding.decoding_overview(decodings)
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["LPFC", "V4", "extra"]
    for row, train in zip(axes, TASKS):
        assert train in row[0].get_ylabel()
        labels = [line.get_label() for line in row[1].get_lines() if not line.get_label().startswith("_")]
        assert labels == [f"train {train}, test {test} ({'within' if test == train else 'transfer'})" for test in TASKS]
    # Each region keeps its palette colour in the title.
    assert axes[0, 1].title.get_color() == plots_style.region_colours(decodings)["V4"]


def test_generalization_overview_shows_every_pair_for_every_region(decodings):
    fig = plots_decoding.generalization_overview(decodings)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 4 * 3
    assert "train retro, test pro" in images[3].get_ylabel()
    assert np.allclose(images[0].images[0].get_array(), decodings["LPFC"]["generalization"].sel(train_task="retro", test_task="retro"))


def test_task_timeline_draws_every_configured_epoch_with_the_cue_at_zero():
    fig = plots_task.task_timeline(DEFAULT_TIMING)
    ax = fig.axes[0]
    texts = [text.get_text() for text in ax.texts]
    for epochs in DEFAULT_TIMING.values():
        for epoch in list(epochs) + ["response"]:
            assert epoch.replace("_", " ") in texts
    cue_boxes = [patch for patch, text in zip([p for p in ax.patches if p.get_hatch() is None], ax.texts) if text.get_text() == "cue"]
    assert len(cue_boxes) == 2 and all(box.get_x() == 0 for box in cue_boxes)
    assert "cue onset" in ax.get_xlabel()


def test_region_colours_follow_the_given_order_and_differ():
    colours = plots_style.region_colours(["a", "b", "c", "d"])
    assert list(colours) == ["a", "b", "c", "d"] and len(set(colours.values())) == 4
    assert set(colours.values()).isdisjoint(plots_style.TASK_COLOURS.values())


def spikes_with_one_selective_neuron(rng, selective=3, n_neurons=5, n_per_condition=20):
    """Poisson spikes from -1500 to 2500 ms; from 0 to 800 ms ``selective`` fires 40 Hz when upper is cued, 10 Hz when
    lower is, and neuron 0 does so more strongly (60 and 2 Hz) in pro trials only."""
    conditions = [(task, cued) for task in TASKS for cued in ("upper", "lower")]
    task, cued = (np.repeat([c[k] for c in conditions], n_per_condition) for k in (0, 1))
    events = []
    for trial, neuron in np.ndindex(len(task), n_neurons):
        times = rng.uniform(-1500, 2500, rng.poisson(20 * 4.0))
        rates = {selective: (40, 10), 0: (60, 2) if task[trial] == "pro" else (20, 20)}
        if neuron in rates:
            times = times[(times < 0) | (times >= 800)]
            rate = rates[neuron][cued[trial] != "upper"]
            times = np.concatenate([times, rng.uniform(0, 800, rng.poisson(rate * 0.8))])
        events += [(trial, neuron, time) for time in times]
    trial, neuron, time = np.array(events).T
    retro = task == "retro"
    return xr.Dataset(
        {"spike_trial": ("spike", trial.astype(int)), "spike_neuron": ("spike", neuron.astype(int)), "spike_time": ("spike", time)},
        coords={"trial": np.arange(len(task)), "neuron": np.arange(n_neurons), "task": ("trial", task), "cued": ("trial", cued),
                "session": ("trial", np.zeros(len(task), int)), "region": ("neuron", np.full(n_neurons, "V4")),
                "onset_samples": ("trial", np.where(retro, -1200.0, 600.0)),
                "onset_response": ("trial", np.where(retro, 800.0, 2400.0))},
    )


def test_the_example_is_the_neuron_selective_in_retro_trials_and_its_psth_separates_the_cued_locations():
    rng = np.random.default_rng(1)
    spikes = {region: spikes_with_one_selective_neuron(rng, selective=k + 1) for k, region in enumerate(["LPFC", "V4"])}
    fig = plots_task.example_neurons(spikes, window=(100, 800), bin_ms=100, step_ms=50)
    axes = np.array(fig.axes).reshape(4, 2)
    for (region, data), rasters, psths in zip(spikes.items(), axes[::2], axes[1::2]):
        neuron = 1 if region == "LPFC" else 2
        assert [ax.get_title().split(":")[0] for ax in rasters] == [f"{region}, neuron {neuron}"] * 2
        for raster, psth in zip(rasters, psths):
            upper, lower = (line.get_ydata() for line in psth.get_lines() if line.get_label().startswith("cued"))
            time = psth.get_lines()[0].get_xdata()
            after_cue = (time > 100) & (time < 700)
            assert upper[after_cue].mean() > 30 and lower[after_cue].mean() < 15
            # every spike of the neuron in the task's trials is drawn once
            trials = data["trial"].to_numpy()[data["task"].to_numpy() == raster.get_title().split(": ")[1].split()[0]]
            mine = (data["spike_neuron"] == neuron) & data["spike_trial"].isin(trials)
            assert len(raster.collections[0].get_offsets()) == int(mine.sum())
    assert "d\u2032" in axes[0, 0].get_title() and "cue onset" in axes[-1, 0].get_xlabel()
    # The pro PSTH says how the region's neurons' selectivities agree across the tasks.
    selectivity = plots_task.cued_selectivity(spikes["V4"], (100, 800))
    assert axes[3, 1].texts[0].get_text() == f"all 5 neurons: r(d\u2032 retro, d\u2032 pro) = {np.corrcoef(selectivity)[0, 1]:.2f}"


GEOMETRY_TIME = np.arange(-800.0, 1000.0, 50.0)
PLANE_NAMES = ["retro/before_selection/upper_lower", "retro/after_selection/cued", "pro/after_selection/cued",
               "retro-pro/after_selection/cross_task_cued_other_location"]


def geometry_decoding(cued_after, rng):
    """Colour information of the cued item rising after the cue in retro trials; planes planted per comparison."""
    measures, statuses = ["pmi_z", "pev"], ["cued", "uncued"]
    mean = np.zeros((2, 2, 2, len(GEOMETRY_TIME)))
    mean[:, 0, 0] = np.where(GEOMETRY_TIME > 100, 2.0, 0.0)
    cosine = np.array([0.2, cued_after, 0.5, cued_after])
    dims = ("measure", "task", "cue_status", "time")
    return xr.Dataset(
        {
            "epoch_onset": epoch_onset(),
            "color_information_mean": (dims, mean),
            "color_information_mean_ci": (("ci_bound",) + dims, np.stack([mean - 0.3, mean + 0.3])),
            "color_significant": (dims, mean > 1),
            "color_difference_significant": (("measure", "task", "time"), mean[:, :, 0] > 1),
            "plane_cosine": ("plane_pair", cosine),
            "plane_cosine_ci": (("ci_bound", "plane_pair"), np.stack([cosine - 0.1, cosine + 0.1])),
            "plane_cosine_null": (("shuffle", "plane_pair"), rng.uniform(0.3, 0.8, (50, 4))),
            "plane_p_value": ("plane_pair", np.where(cosine > 0.8, 0.01, 0.5)),
        },
        coords={"measure": measures, "task": TASKS, "cue_status": statuses, "time": GEOMETRY_TIME, "ci_bound": [0.025, 0.975],
                "plane_pair": PLANE_NAMES,
                "task_a": ("plane_pair", ["retro", "retro", "pro", "retro"]), "task_b": ("plane_pair", ["retro", "retro", "pro", "pro"])},
    )


def test_a_regions_geometry_figure_shows_colour_information_and_every_plane_with_its_null():
    fig = plots_geometry.selection_geometry(geometry_decoding(0.9, np.random.default_rng(0)), "LPFC")
    courses, planes = fig.axes[:4], fig.axes[4]
    assert "LPFC" in fig.get_suptitle() and [ax.get_title() for ax in courses[:2]] == ["retro trials", "pro trials"]
    cued = [line for line in courses[0].get_lines() if line.get_label() == "cued item"][0]
    assert np.isnan(cued.get_ydata()[GEOMETRY_TIME > 700]).all()  # retro trials are over
    assert [label.get_text() for label in planes.get_xticklabels()] == [
        "retro before selection: upper lower", "retro after selection: cued", "pro after selection: cued",
        "retro vs pro after selection: cross task cued other location"]
    # a grey null box per comparison, and its p-value over it
    assert len([patch for patch in planes.patches if isinstance(patch, matplotlib.patches.Rectangle)]) >= 4
    assert [text.get_text() for text in planes.texts] == ["p=0.5", "p=0.01", "p=0.5", "p=0.01"]


def test_geometry_overview_has_a_column_per_region_and_one_scale_for_colour_information():
    rng = np.random.default_rng(1)
    decodings = {"LPFC": geometry_decoding(0.9, rng), "V4": geometry_decoding(0.3, rng)}
    decodings["V4"]["color_information_mean"].loc[{"task": "pro"}] = np.nan  # a skipped condition draws nothing
    fig = plots_geometry.geometry_overview(decodings)
    axes = np.array(fig.axes).reshape(3, 2)
    assert [ax.get_title() for ax in axes[0]] == ["LPFC", "V4"]
    assert axes[0, 0].get_ylim() == axes[1, 1].get_ylim()
    assert "|cos|" in axes[2, 0].get_ylabel()


def test_the_comparison_shows_each_regions_distances_with_intervals_and_its_match():
    from test_compare import COLOUR_WINDOWS, attention as network_attention, decoding as signature_decoding

    from wmattn.compare import summarize

    summary = summarize({"LPFC": signature_decoding(0.9), "V4": signature_decoding(0.5, onset=np.nan)},
                        {"shared": signature_decoding(0.9), "task_specific": signature_decoding(0.5, onset=np.nan)},
                        {"shared": network_attention(200.0), "task_specific": network_attention(300.0)},
                        COLOUR_WINDOWS, n_draws=100, seed=0)
    fig = plots_model.comparison(summary)
    distance_ax = fig.axes[0]
    assert [label.get_text() for label in distance_ax.get_yticklabels()] == ["LPFC", "V4"]
    assert [text.get_text() for text in distance_ax.texts] == ["shared", "task_specific"]
    # a marker and interval per region for each network
    legend = {text.get_text() for text in distance_ax.get_legend().get_texts()}
    assert legend == {"shared (1 instance)", "task_specific (1 instance)", "variants' distance apart"}
    assert "[95 %]" in distance_ax.get_xlabel()


def test_a_regions_decoding_figures_name_the_region_and_show_every_train_test_pair(decodings):
    fig = plots_decoding.decoding_time_courses(decodings["V4"], "V4")
    ax = fig.axes[0]
    assert ax.get_title().startswith("V4:") and "cue onset" in ax.get_xlabel()
    assert [text.get_text() for text in fig.legends[0].get_texts()] == [
        f"train {train}, test {test} ({'within' if train == test else 'transfer'})" for train in TASKS for test in TASKS
    ] + ["permutation null, 95 %", "cue"]
    # no retro course drawn after the last retro response onset (700 ms): those trials are over
    retro = [line for line in ax.get_lines() if line.get_label() == "train retro, test retro (within)"][0]
    assert np.isnan(retro.get_ydata()[TIME > 700]).all() and np.isfinite(retro.get_ydata()[TIME <= 700]).all()
    fig = plots_decoding.generalization_matrices(decodings["V4"], "V4")
    assert "V4" in fig.get_suptitle() and len([ax for ax in fig.axes if ax.images]) == 4


def generalization(regions, rng):
    windows, directions = ["cue", "delay"], ["retro_to_pro", "pro_to_retro", "both"]
    decodings = {}
    for k, region in enumerate(regions):
        gi = np.full((2, 3), 1.0 - k / max(len(regions) - 1, 1)) + 0.05 * rng.standard_normal((2, 3))
        decodings[region] = xr.Dataset(
            {"gi": (("window", "direction"), gi), "gi_ci": (("ci_bound", "window", "direction"), np.stack([gi - 0.2, gi + 0.2]))},
            coords={"window": windows, "direction": directions, "ci_bound": [0.025, 0.975],
                    "window_start": ("window", [100.0, 400.0]), "window_end": ("window", [300.0, 800.0])},
        )
    pairs = [(a, b) for i, a in enumerate(regions) for b in regions[i + 1:]]
    contrast = xr.Dataset(
        {"gi_difference": (("contrast", "window", "direction"), rng.uniform(-1, 1, (len(pairs), 2, 3))),
         "p_holm": (("contrast", "window", "direction"), rng.uniform(0, 1, (len(pairs), 2, 3)))},
        coords={"contrast": [f"{a}-{b}" for a, b in pairs], "region_a": ("contrast", [a for a, _ in pairs]),
                "region_b": ("contrast", [b for _, b in pairs]), "window": windows, "direction": directions},
    )
    return decodings, contrast


def test_the_generalization_summary_orders_regions_by_shared_selection_and_shows_every_contrast():
    decodings, contrast = generalization(["LPFC", "V4", "extra"], np.random.default_rng(2))
    fig = plots_decoding.generalization_summary(decodings, contrast, {"LPFC": 0.9, "V4": 0.0, "extra": 0.5})
    top = fig.axes[0]
    assert [label.get_text() for label in top.get_xticklabels()] == ["LPFC", "extra", "V4"]
    assert top.get_title().startswith("cue: 100 to 300 ms")
    matrix = [ax for ax in fig.axes if ax.images][0]
    d = float(contrast["gi_difference"].sel(contrast="LPFC-V4", window="cue", direction="both"))
    assert matrix.images[0].get_array()[0, 2] == pytest.approx(d)  # LPFC's row, V4's column
    assert matrix.images[0].get_array()[2, 0] == pytest.approx(-d)


def test_the_generalization_summary_of_recordings_keeps_the_given_order():
    decodings, contrast = generalization(["a", "b"], np.random.default_rng(3))
    fig = plots_decoding.generalization_summary(decodings, contrast)
    assert [label.get_text() for label in fig.axes[0].get_xticklabels()] == ["a", "b"]


def test_the_attention_model_figure_shows_attention_on_the_cued_item_per_task():
    time = np.arange(-500.0, 1000.0, 50.0)
    cued = np.array(["upper", "lower"] * 4)
    task = np.repeat(TASKS, 4)
    on_upper = np.where(time >= 100, np.where(cued[:, None] == "upper", 0.9, 0.1), 0.5)
    attention = xr.Dataset(
        {"attention": (("trial", "time", "item"), np.stack([on_upper, 1 - on_upper], axis=-1))},
        coords={"time": time, "item": ["upper", "lower"], "task": ("trial", task), "cued": ("trial", cued),
                "onset_samples": ("trial", np.where(task == "retro", -400.0, 500.0)),
                "onset_response": ("trial", np.where(task == "retro", 800.0, 900.0))},
    )
    training = pd.DataFrame({"step": np.arange(10), "loss": np.linspace(1, 0.1, 10), "median_error_deg": np.linspace(90, 5, 10)})
    fig = plots_model.attention_models({"shared": attention, "task_specific": attention},
                                       {"shared": training, "task_specific": training})
    assert len(fig.axes) == 6 and fig.axes[5].get_title().startswith("task_specific:")
    lines = {line.get_label(): line.get_ydata() for line in fig.axes[2].get_lines()}
    for task in TASKS:
        assert np.allclose(lines[f"{task} trials"], np.where(time >= 100, 0.9, 0.5))
