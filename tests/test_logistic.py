import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from wmattn.analysis.location import fit_task, stratified_folds
from wmattn.logistic import SlidingLogisticRegression, _backtrack, fit_logistic


def problem(rng, n_trials=120, n_features=15, n_bins=4):
    """Labels carried by a random axis, growing across bins, with features on different scales."""
    y = rng.integers(0, 2, n_trials)
    axis = rng.standard_normal(n_features)
    X = rng.standard_normal((n_trials, n_features, n_bins)) + np.outer(y - 0.5, axis)[:, :, None] * np.linspace(0, 1.5, n_bins)
    return X * rng.uniform(0.5, 20, n_features)[None, :, None] + 3, y


def reference(X, y, C=1.0):
    """scikit-learn's z-scored logistic regression, fitted to tight tolerance."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, tol=1e-10, max_iter=10_000)).fit(X, y)


@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
def test_coefficients_match_scikit_learn(C):
    X, y = problem(np.random.default_rng(0))
    decoder = SlidingLogisticRegression(C=C, tol=1e-9).fit(X, y)
    for t in range(X.shape[2]):
        fitted = reference(X[:, :, t], y, C)
        np.testing.assert_allclose(decoder.coef_[t], fitted[-1].coef_[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(decoder.intercept_[t], fitted[-1].intercept_[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(decoder.decision_function(X)[:, t], fitted.decision_function(X[:, :, t]), rtol=1e-5, atol=1e-5)


def test_folds_and_permutations_fitted_together_match_separate_scikit_learn_fits():
    """Rates z-scored once over every trial (no labels), then each fold fitted on its own trials."""
    rng = np.random.default_rng(1)
    X, y = problem(rng)
    test = stratified_folds(y, 4, random_state=0)
    labels = np.column_stack([y, rng.permutation(y)])
    fit = fit_task(X.astype(np.float64), labels, test, C=1.0)
    z = (X[:, :, 2] - X[:, :, 2].mean(axis=0)) / X[:, :, 2].std(axis=0)
    groups = list(test.T) + [np.zeros(len(y), bool)]  # the last group trains on every trial
    for g, held_out in enumerate(groups):
        for column in range(labels.shape[1]):
            fitted = LogisticRegression(tol=1e-10, max_iter=10_000).fit(z[~held_out], labels[~held_out, column])
            raw = X[:, :, 2] @ fit["weights"][2, g, column] + fit["offset"][2, g, column]
            np.testing.assert_allclose(raw, fitted.decision_function(z), rtol=1e-3, atol=1e-3)


def test_every_labelling_is_its_own_problem():
    rng = np.random.default_rng(2)
    X, y = problem(rng)
    X = (X[:, :, -1:] - X[:, :, -1:].mean(axis=0)) / X[:, :, -1:].std(axis=0)
    labels = np.column_stack([y, 1 - y, rng.permutation(y)])
    coef, _ = fit_logistic(X.transpose(2, 0, 1), labels, tol=1e-9)
    for column in range(labels.shape[1]):
        alone, _ = fit_logistic(X.transpose(2, 0, 1), labels[:, [column]], tol=1e-9)
        np.testing.assert_allclose(coef[0, 0, column], alone[0, 0, 0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(coef[0, 0, 1], -coef[0, 0, 0], rtol=1e-6, atol=1e-8)


def test_works_inside_scikit_learn_tools():
    X, y = problem(np.random.default_rng(3))
    X = X[:, :, -1]
    decoder = SlidingLogisticRegression(C=0.5)
    assert clone(decoder).get_params() == {"C": 0.5, "tol": 1e-4, "max_iter": 100}
    ours = cross_val_score(make_pipeline(StandardScaler(), decoder), X, y, cv=StratifiedKFold(5))
    theirs = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(C=0.5)), X, y, cv=StratifiedKFold(5))
    np.testing.assert_allclose(ours, theirs, atol=0.01)
    assert ours.mean() > 0.8
    assert set(decoder.fit(X, np.where(y, "upper", "lower")).predict(X)) == {"upper", "lower"}


def test_generalization_diagonal_is_the_sliding_decision():
    X, y = problem(np.random.default_rng(4))
    decoder = SlidingLogisticRegression().fit(X, y)
    matrix = decoder.generalization_decision(X)
    assert matrix.shape == (len(y), X.shape[2], X.shape[2])
    np.testing.assert_allclose(np.diagonal(matrix, axis1=1, axis2=2), decoder.decision_function(X), rtol=1e-6, atol=1e-6)


def test_rejects_one_class_and_bad_shapes():
    X, y = problem(np.random.default_rng(5))
    with pytest.raises(ValueError, match="2 classes"):
        SlidingLogisticRegression().fit(X, np.zeros_like(y))
    with pytest.raises(ValueError, match="Only binary classification"):
        SlidingLogisticRegression().fit(X, np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match="trials, features"):
        SlidingLogisticRegression().fit(X[..., None], y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("C", [0.05, 1.0])
def test_more_features_than_trials_match_scikit_learn_per_group(dtype, C):
    """At p = 10 n the dual solver runs; each group is scikit-learn's fit on that group's trials and scaled features.

    The features are z-scored over all trials first, as ``fit_task`` does:
    on raw features (offsets and scales up to 20) or with a weak penalty
    (C = 20) scikit-learn's lbfgs stops on its loss criterion up to 4e-5 from
    the optimum, which its ``newton-cholesky`` solver and ours agree on to 1e-8.
    """
    rng = np.random.default_rng(6)
    n_trials, n_features, n_bins = 40, 400, 3
    X, y = problem(rng, n_trials, n_features, n_bins)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    labels = np.column_stack([y, rng.permutation(y), rng.permutation(y)])
    # A fold's training trials, and every trial but the first 8: trials outside a group weigh 0.
    groups = np.column_stack([np.arange(n_trials) % 2 == 0, np.arange(n_trials) >= 8])
    scale = rng.uniform(0.5, 3, (n_bins, groups.shape[1], n_features))
    float32 = dtype == np.float32
    coef, intercept = fit_logistic(X.transpose(2, 0, 1).astype(dtype), labels, C, sample_weight=groups,
                                   feature_scale=scale, tol=1e-6 if float32 else 1e-9)
    assert coef.shape == (n_bins, 2, 3, n_features) and coef.dtype == dtype
    tolerance = dict(rtol=1e-4, atol=1e-4) if float32 else dict(rtol=1e-5, atol=1e-6)
    for t in range(n_bins):
        for g, rows in enumerate(groups.T):
            for column in range(labels.shape[1]):
                fitted = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X[rows, :, t] / scale[t, g], labels[rows, column])
                np.testing.assert_allclose(coef[t, g, column] * scale[t, g], fitted.coef_[0], **tolerance)
                np.testing.assert_allclose(intercept[t, g, column], fitted.intercept_[0], **tolerance)


def test_passes_scikit_learn_estimator_checks():
    check_estimator(SlidingLogisticRegression())


def test_integer_spike_counts_fit_as_floats():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 60)
    counts = rng.poisson(3 + 4 * y[:, None, None], (60, 5, 2))
    decoder = SlidingLogisticRegression().fit(counts, y)
    np.testing.assert_allclose(decoder.coef_, SlidingLogisticRegression().fit(counts.astype(float), y).coef_)
    assert decoder.score(counts, y) > 0.9


def test_rejects_nan():
    X, y = problem(np.random.default_rng(8))
    X[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SlidingLogisticRegression().fit(X, y)
    decoder = SlidingLogisticRegression().fit(np.nan_to_num(X), y)
    with pytest.raises(ValueError, match="NaN"):
        decoder.predict(X)


def test_predict_before_fit_raises_not_fitted():
    X, _ = problem(np.random.default_rng(9))
    for method in ("predict", "decision_function", "generalization_decision"):
        with pytest.raises(NotFittedError):
            getattr(SlidingLogisticRegression(), method)(X)


def test_scores_only_the_kind_of_x_it_was_fitted_on():
    X, y = problem(np.random.default_rng(10))
    sliding = SlidingLogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="fitted on 3-D X"):
        sliding.predict(X[:, :, 0])
    with pytest.raises(ValueError, match="fitted on 3-D X"):
        sliding.predict(X[:, :, :2])
    single = SlidingLogisticRegression().fit(X[:, :, 0], y)
    with pytest.raises(ValueError, match="fitted on 2-D X"):
        single.predict(X)


def test_n_features_in_is_the_feature_axis():
    X, y = problem(np.random.default_rng(11), n_features=7)
    assert SlidingLogisticRegression().fit(X, y).n_features_in_ == 7
    assert SlidingLogisticRegression().fit(X[:, :, 0], y).n_features_in_ == 7
    with pytest.raises(ValueError, match="features"):
        SlidingLogisticRegression().fit(X, y).predict(X[:, :6])


def test_backtracking_halves_a_step_whose_loss_overflows():
    """A NaN loss is too far, not accepted; the other column keeps its full step."""

    def objective(Z, W):
        loss = 1 - W[:, 0]
        loss[:, 0] = np.where(W[:, 0, 0] > 0.3, np.nan, loss[:, 0])  # column 0 overflows past 0.3
        return loss

    W, _, loss = _backtrack(np.zeros((1, 1, 2)), np.ones((1, 1, 2)), -np.ones((1, 2)), np.ones((1, 2)), lambda W: W, objective)
    np.testing.assert_array_equal(W[0, 0], [0.25, 1.0])
    assert np.isfinite(loss).all()
