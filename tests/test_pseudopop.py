import numpy as np
import pytest
import xarray as xr

from wmattn.pseudopop import condition_codes, pseudo_trial_index, resample


def unequal_sessions(rng):
    """Three sessions of different sizes with unbalanced conditions."""
    session = np.repeat([0, 1, 2], [30, 45, 60])
    condition = rng.integers(0, 4, len(session))
    condition[:8] = [0, 0, 1, 1, 2, 2, 3, 3]  # every session has every condition
    condition[30:38] = condition[95:103] = [0, 0, 1, 1, 2, 2, 3, 3]
    return session, condition


def test_never_mixes_sessions_and_balances_conditions():
    rng = np.random.default_rng(0)
    session, condition = unequal_sessions(rng)
    index = pseudo_trial_index(session, condition, rng)
    smallest = min(np.sum((session == s) & (condition == c)) for s in range(3) for c in range(4))
    assert index.shape == (4 * smallest, 3)
    for s in range(3):
        assert (session[index[:, s]] == s).all()
        assert len(np.unique(index[:, s])) == len(index)  # without replacement
    assert (condition[index] == condition[index[:, :1]]).all()  # one condition per pseudo-trial
    assert (np.bincount(condition[index[:, 0]]) == smallest).all()


def test_refuses_a_session_without_some_condition():
    session = np.repeat([0, 1], 8)
    condition = np.array([0, 1] * 4 + [0] * 8)
    with pytest.raises(ValueError, match="session 1 has no trial of condition 1"):
        pseudo_trial_index(session, condition, np.random.default_rng(1))


def test_resample_takes_each_neurons_rates_from_its_own_session():
    rng = np.random.default_rng(2)
    session, condition = unequal_sessions(rng)
    neurons_per_session = [2, 1, 3]
    # Each rate is its trial's index across the sessions, so a pseudo-trial shows where it came from.
    sessions = [
        xr.Dataset(
            {"rate": (("trial", "neuron", "time"), np.repeat(np.flatnonzero(session == s)[:, None, None], n, axis=1) * 1.0)},
            coords={"task": ("trial", condition[session == s] % 2), "cued": ("trial", condition[session == s] // 2)},
        )
        for s, n in enumerate(neurons_per_session)
    ]
    codes = condition_codes(sessions, ["task", "cued"])
    pseudo, source = resample(sessions, codes, rng)
    trial = pseudo[:, :, 0].astype(int)
    assert pseudo.shape[1] == sum(neurons_per_session)
    assert (session[trial] == np.repeat([0, 1, 2], neurons_per_session)).all()
    assert (codes[trial] == codes[source][:, None]).all()
    assert (trial[:, 0] == trial[:, 1]).all()  # one session's neurons share their trial
    assert (trial[:, 0] == source).all()
