import numpy as np
import xarray as xr

from wmattn.compare import as_table, bootstrap_correlation, selection_signal, summarize

TIME = np.arange(-500.0, 1500.0, 100.0)


def attention(rng, n_trials=40):
    """Attention that moves to the cued item after the cue, in both tasks."""
    cued = np.tile(["upper", "lower"], n_trials // 2)
    task = np.repeat(["retro", "pro"], n_trials // 2)
    on_cued = np.clip(0.5 + 0.45 * (TIME >= 100) + 0.02 * rng.standard_normal((n_trials, len(TIME))), 0, 1)
    upper = np.where(cued[:, None] == "upper", on_cued, 1 - on_cued)
    return xr.Dataset(
        {"attention": (("trial", "time", "item"), np.stack([upper, 1 - upper], axis=-1))},
        coords={"time": TIME, "item": ["upper", "lower"], "cued": ("trial", cued), "task": ("trial", task),
                "onset_samples": ("trial", np.full(n_trials, -400.0)), "onset_response": ("trial", np.full(n_trials, 1000.0))},
    )


def decoding(transfer, follows_cue=True):
    """A decoding dataset whose within-task accuracy rises after the cue (or falls) and transfers as given.

    After the response (1000 ms) it drops to chance, which agreement must ignore.
    """
    within = 0.5 + 0.4 * (TIME >= 100) if follows_cue else 0.5 + 0.4 * (TIME < -200)
    within = np.where(TIME > 1000, 0.5, within)
    accuracy = np.empty((2, 2, len(TIME)))
    accuracy[0, 0] = accuracy[1, 1] = within
    accuracy[0, 1] = accuracy[1, 0] = 0.5 + (transfer - 0.5) * (TIME >= 100)
    return xr.Dataset(
        {"accuracy": (("train_task", "test_task", "time"), accuracy),
         "accuracy_ci": (("ci_bound", "train_task", "test_task", "time"), np.stack([accuracy - 0.02, accuracy + 0.02]))},
        coords={"train_task": ["retro", "pro"], "test_task": ["retro", "pro"], "time": TIME},
    )


def test_selection_signal_is_attention_on_cued_minus_uncued():
    signal = selection_signal(attention(np.random.default_rng(0)))
    assert abs(float(signal.sel(time=slice(None, 0)).mean())) < 0.05
    assert float(signal.sel(time=slice(200, None)).mean()) > 0.85


def test_bootstrap_correlation_is_high_and_tight_for_matching_courses_and_negative_for_opposite_ones():
    rng = np.random.default_rng(1)
    signal = selection_signal(attention(rng)).to_numpy()
    r, low, high = bootstrap_correlation(signal, 0.5 + 0.4 * (TIME >= 100), 500, rng)
    assert r > 0.95 and 0.9 < low <= high <= 1
    r, low, high = bootstrap_correlation(signal, 0.5 + 0.4 * (TIME < -200), 500, rng)
    assert r < 0
    # A decoder at ceiling throughout has no time course to agree with.
    assert np.isnan(bootstrap_correlation(signal, np.ones(len(TIME)), 500, rng)).all()


def test_summary_has_one_row_per_name_and_ranks_weight_with_transfer():
    rng = np.random.default_rng(2)
    decodings = {"A": decoding(0.9), "B": decoding(0.7), "C": decoding(0.5, follows_cue=False), "model": decoding(0.95)}
    weights = np.array([0.7, 0.2, 0.1])[None, None, :] * np.ones((2, len(TIME), 1))
    readout = xr.Dataset(
        {"weight": (("direction", "time", "region"), weights)},
        coords={"direction": ["retro_to_pro", "pro_to_retro"], "time": TIME, "region": ["A", "B", "C"]},
    )
    summary = summarize(decodings, attention(rng), readout, (100, 800), n_boot=200, seed=3)
    table = as_table(summary)
    assert list(table.index) == ["A", "B", "C", "model"]
    assert np.isclose(table.loc["B", "transfer_retro_to_pro"], 0.7)
    assert np.isclose(table.loc["A", "within_retro"], 0.9)
    assert table.loc["A", "agreement_within_retro"] > 0.9 and table.loc["C", "agreement_within_pro"] < 0
    # Transfer that follows the cue agrees with the network; C's flat transfer has no time course.
    assert table.loc["B", "agreement_transfer_retro_to_pro"] > 0.9
    assert np.isnan(table.loc["C", "agreement_transfer_pro_to_retro"])
    assert np.isnan(table.loc["model", "readout_weight_retro_to_pro"])
    assert np.allclose(summary["weight_transfer_spearman"], 1.0)
    assert (table["transfer_retro_to_pro_ci_low"] <= table["transfer_retro_to_pro"]).all()
