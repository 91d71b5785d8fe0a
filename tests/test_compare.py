import numpy as np
import pytest
import xarray as xr

from wmattn.compare import UNDECIDED, as_table, attention_timing, match_networks, rise_times, signature, summarize

TIME = np.arange(-500.0, 1500.0, 100.0)
TASKS = ["retro", "pro"]
WINDOWS = ["cue", "delay"]
COLOUR_WINDOWS = {"retro": [300, 800], "pro": [300, 800]}


def decoding(transfer, within=0.9, onset=200.0, half_width=0.03, onset_half_width=100.0, cued_colour=0.2,
             uncued_colour=0.05, found=None):
    """A decoding file's variables that the signature reads, with transfer and within-task accuracy as given."""
    accuracy = np.full((len(WINDOWS), 2, 2), transfer)
    accuracy[:, [0, 1], [0, 1]] = within
    gi = np.full((len(WINDOWS), 3), (transfer - 0.5) / (within - 0.5))
    onsets = np.full((2, 2), onset)
    colour = np.zeros((1, 2, 2, len(TIME)))
    colour[..., 0, :], colour[..., 1, :] = cued_colour, uncued_colour
    return xr.Dataset(
        {
            "window_accuracy": (("window", "train_task", "test_task"), accuracy),
            "window_accuracy_ci": (("ci_bound", "window", "train_task", "test_task"),
                                   np.stack([accuracy - half_width, accuracy + half_width])),
            "gi": (("window", "direction"), gi),
            "gi_ci": (("ci_bound", "window", "direction"), np.stack([gi - 2 * half_width, gi + 2 * half_width])),
            "onset_latency": (("train_task", "test_task"), onsets),
            "onset_latency_ci": (("ci_bound", "train_task", "test_task"), np.stack([onsets - onset_half_width, onsets + onset_half_width])),
            "onset_latency_found_ci": (("ci_bound", "train_task", "test_task"),
                                       np.stack([onsets - onset_half_width, onsets + onset_half_width])),
            "onset_found_fraction": (("train_task", "test_task"),
                                     np.full((2, 2), float(np.isfinite(onset)) if found is None else found)),
            "color_information_mean": (("measure", "task", "cue_status", "time"), colour),
            "color_information_mean_ci": (("ci_bound", "measure", "task", "cue_status", "time"),
                                          np.stack([colour - 0.01, colour + 0.01])),
            "plane_cosine": ("plane_pair", [0.6]),
            "plane_cosine_ci": (("ci_bound", "plane_pair"), [[0.5], [0.7]]),
        },
        coords={"window": WINDOWS, "direction": ["retro_to_pro", "pro_to_retro", "both"], "train_task": TASKS,
                "test_task": TASKS, "ci_bound": [0.025, 0.975], "time": TIME, "measure": ["pev"], "task": TASKS,
                "cue_status": ["cued", "uncued"], "plane_pair": ["cross_task"]},
    )


def attention(onset_ms, n_trials=40, seed=0, response_ms=1000.0, pro_selects=True):
    """Attention that turns to the cued item from ``onset_ms`` on, in both tasks (in retro only if not
    ``pro_selects``: there it stays at 0.5)."""
    rng = np.random.default_rng(seed)
    cued = np.tile(["upper", "lower"], n_trials // 2)
    task = np.repeat(TASKS, n_trials // 2)
    selects = (task == "retro") | pro_selects
    on_cued = np.clip(0.5 + 0.45 * (TIME >= onset_ms) * selects[:, None]
                      + 0.05 * rng.standard_normal((n_trials, len(TIME))), 0, 1)
    upper = np.where(cued[:, None] == "upper", on_cued, 1 - on_cued)
    return xr.Dataset(
        {"attention": (("trial", "time", "item"), np.stack([upper, 1 - upper], axis=-1))},
        coords={"time": TIME, "item": ["upper", "lower"], "cued": ("trial", cued), "task": ("trial", task),
                "n_items": ("trial", np.full(n_trials, 2)), "onset_response": ("trial", np.full(n_trials, response_ms))},
    )


def test_signature_leaves_gi_undefined_where_the_training_task_does_not_decode():
    defined = signature(decoding(0.8), COLOUR_WINDOWS)
    assert np.isclose(defined["value"].sel(measure="gi_delay_retro_to_pro"), 0.75)
    at_chance = signature(decoding(0.52, within=0.51), COLOUR_WINDOWS)
    assert np.isnan(at_chance["value"].sel(measure="gi_delay_retro_to_pro"))
    # the accuracies themselves stay: "does not decode" is part of the signature
    assert np.isclose(at_chance["value"].sel(measure="accuracy_delay_retro_to_retro"), 0.51)
    assert np.isclose(defined["value"].sel(measure="colour_retro"), (0.2 - 0.05) / 0.25)
    assert (defined["low"] <= defined["value"]).all() and (defined["value"] <= defined["high"]).all()


def test_the_colour_contrast_stays_in_its_range_when_pev_is_negative():
    """Bias-corrected PEV is negative without information; the contrast must not divide by a sum near 0."""
    sig = signature(decoding(0.8, cued_colour=0.011, uncued_colour=-0.012), COLOUR_WINDOWS)
    contrast = sig.sel(measure="colour_retro")
    assert float(contrast["value"]) == 1.0 and -1 <= float(contrast["low"]) <= float(contrast["high"]) <= 1
    assert np.isnan(signature(decoding(0.8, cued_colour=-0.02, uncued_colour=-0.02), COLOUR_WINDOWS)["value"]
                    .sel(measure="colour_retro"))


def test_a_missing_onset_is_no_latency_and_counts_as_not_found():
    data = decoding(0.8)
    data["onset_latency"][1, 1] = np.nan
    data["onset_found_fraction"][1, 1] = 0.1
    sig = signature(data, COLOUR_WINDOWS)
    assert np.isnan(sig[["value", "low", "high"]].sel(measure="onset_pro_to_pro").to_array()).all()
    assert float(sig["value"].sel(measure="onset_found_pro_to_pro")) == 0.1
    # a transfer course says whether it has an onset, not when
    assert "onset_found_retro_to_pro" in sig["measure"] and "onset_retro_to_pro" not in sig["measure"]


def test_a_latency_is_compared_only_with_latencies():
    """Against a network without an onset a region's distance says whether it has one, not how late: no time
    stands in for 'none' (2 s did, and decided the match)."""
    networks = {"early": signature(decoding(0.9, onset=100.0), COLOUR_WINDOWS),
                "none": signature(decoding(0.9, onset=np.nan), COLOUR_WINDOWS)}
    regions = {f"onset {onset:.0f}": signature(decoding(0.9, onset=onset), COLOUR_WINDOWS) for onset in (300.0, 1200.0)}
    result = match_networks(regions, networks, n_draws=100, rng=0)
    assert np.ptp(result["distance"].sel(variant="none").to_numpy()) < 1e-12
    assert result["distance"].sel(variant="none").min() > 0  # it has an onset, the network none
    assert (result["n_measures"].sel(variant="none") < result["n_measures"].sel(variant="early")).all()


def test_a_third_network_does_not_move_a_regions_distance_to_the_others():
    """Each distance is over the measures its region and network define, whatever other networks lack."""
    networks = {"shared": signature(decoding(0.9), COLOUR_WINDOWS),
                "task_specific": signature(decoding(0.5, onset=np.nan), COLOUR_WINDOWS)}
    regions = {"region": signature(decoding(0.7, onset=600.0), COLOUR_WINDOWS)}
    third = signature(decoding(0.6, within=0.52), COLOUR_WINDOWS)  # no GI: within-task at chance
    two = match_networks(regions, networks, n_draws=100, rng=0)
    three = match_networks(regions, {**networks, "third": third}, n_draws=100, rng=0)
    np.testing.assert_allclose(two["distance"], three["distance"].sel(variant=list(networks)))


def test_a_region_is_matched_to_the_network_it_resembles_and_undecided_when_the_data_cannot_tell():
    networks = {"shared": signature(decoding(0.9), COLOUR_WINDOWS),
                "task_specific": signature(decoding(0.5, onset=np.nan), COLOUR_WINDOWS)}
    regions = {"like_shared": signature(decoding(0.88), COLOUR_WINDOWS),
               "like_specific": signature(decoding(0.52, onset=np.nan), COLOUR_WINDOWS),
               # halfway: transfer and GI between the networks', an onset in half the draws (so no latency
               # to compare), with intervals as wide as the difference between the networks
               "between": signature(decoding(0.7, onset=np.nan, half_width=0.3, found=0.5), COLOUR_WINDOWS)}
    result = match_networks(regions, networks, n_draws=500, rng=0)
    assert list(result["match"].to_numpy()) == ["shared", "task_specific", UNDECIDED]
    assert result["nearest"].sel(region="like_shared") == "shared"
    between = result["variant_distance"].to_numpy()
    assert between[0, 0] == 0 and between[0, 1] == between[1, 0] > result["distance"].sel(region="like_shared", variant="shared")
    interval = result["distance_ci"].to_numpy()
    assert (interval[..., 0] <= result["distance"].to_numpy() + 1e-9).all()
    assert (result["distance"].to_numpy() <= interval[..., 1] + 1e-9).all()


def test_a_variant_is_the_centroid_of_its_instances_and_their_spread_widens_its_interval():
    """Two instances that disagree (one transfers, one does not) make a variant whose centroid lies between
    them, with a distance interval wider than either instance's alone."""
    regions = {"region": signature(decoding(0.7), COLOUR_WINDOWS)}
    instances = {"a": signature(decoding(0.9), COLOUR_WINDOWS), "b": signature(decoding(0.5), COLOUR_WINDOWS)}
    pooled = match_networks(regions, instances, {"a": "variant", "b": "variant"}, n_draws=500, rng=0)
    alone = match_networks(regions, instances, n_draws=500, rng=0)
    assert pooled["n_instances"].item() == 2 and list(pooled["variant"].to_numpy()) == ["variant"]
    assert float(pooled["distance"].squeeze()) < float(alone["distance"].min())  # the region sits between them
    widths = lambda result: np.diff(result["distance_ci"].to_numpy(), axis=-1).squeeze()  # noqa: E731
    assert widths(pooled) > 2 * widths(alone).max()


def test_rise_times_find_a_step_and_nothing_in_a_flat_course():
    course = np.where(TIME >= 300, 0.95, 0.5)
    onset, rise = rise_times(course, TIME)
    assert onset == 300 and rise == 0
    assert np.isnan(rise_times(np.full(len(TIME), 0.5), TIME)[0])


def test_attention_timing_brackets_the_true_onset_and_is_nan_without_attention():
    timing = attention_timing(attention(400.0), n_bootstrap=200, rng=0)
    assert (timing["attention_onset"] == 400).all()
    low, high = timing["attention_onset_ci"].sel(task="retro").to_numpy()
    assert low <= 400 <= high
    none = attention(400.0).assign(attention=lambda ds: ds["attention"] * np.nan)
    assert np.isnan(attention_timing(none, n_bootstrap=20, rng=0)["attention_onset"]).all()


def test_response_attention_tells_a_network_that_selects_from_one_that_does_not():
    timing = attention_timing(attention(400.0, pro_selects=False), n_bootstrap=200, rng=0)
    retro, pro = (timing["response_attention_ci"].sel(task=task).to_numpy() for task in TASKS)
    assert retro[0] > 0.9 and pro[0] < 0.5 < pro[1]


def test_summary_has_a_row_per_region_and_network_and_is_deterministic():
    regions = {"A": decoding(0.9), "B": decoding(0.5, onset=np.nan)}
    networks = {"shared": decoding(0.9), "task_specific": decoding(0.5, onset=np.nan)}
    attentions = {"shared": attention(200.0), "task_specific": attention(300.0, seed=1)}
    first = summarize(regions, networks, attentions, COLOUR_WINDOWS, n_draws=200, seed=3)
    second = summarize(regions, networks, attentions, COLOUR_WINDOWS, n_draws=200, seed=3)
    assert first.identical(second)
    assert list(first["match"].to_numpy()) == ["shared", "task_specific"]
    table = as_table(first)
    assert list(table.index) == ["A", "B", "model_shared", "model_task_specific"]
    assert {"gi_delay_retro_to_pro_low", "distance_to_shared_high", "match", "attention_onset_retro_high",
            "response_attention_pro_low"} <= set(table.columns)
    assert table.loc["model_shared", "attention_onset_retro"] == 200 and np.isnan(table.loc["A", "attention_onset_retro"])
    assert table.loc["A", "match"] == "shared" and table["match"].isna().sum() == 2  # networks are not matched
    assert table.loc["model_task_specific", "variant"] == "task_specific"


@pytest.mark.parametrize("missing", ["onset_latency", "onset_found_fraction", "plane_cosine"])
def test_a_decoding_without_a_measure_is_refused_naming_it(missing):
    with pytest.raises(KeyError, match=missing):
        signature(decoding(0.9).drop_vars(missing), COLOUR_WINDOWS)
