"""L2-regularised logistic regression for many problems at once.

Time-resolved decoding fits one small logistic regression per time bin, and a
permutation null refits every one of them for every shuffle of the labels.
Fitted one by one (as MNE-Python's ``SlidingEstimator`` does around
scikit-learn), the overhead of thousands of small fits dominates. Here every
time bin and every labelling of the same trials is one column of a batched
damped Newton solver, in one of two exact forms:

- primal, with at most as many features as trials (``_fit_primal``): the
  Newton system of each problem is solved by conjugate gradients, which need
  only Hessian-vector products, and those are matrix products shared by all
  labellings of one time bin; the conjugate gradients are preconditioned with
  the labelling-independent bound on the logistic Hessian, ``X'X / 4``
  (Böhning 1992), inverted once per time bin. Its memory and time grow with
  the square of the number of features.
- dual, with more features than trials (``_fit_dual``): by the representer
  theorem the weights are a combination of the training trials, so Newton
  runs on one coefficient per trial through the trials' Gram matrix, and the
  features enter only through products with ``X``. Pseudo-populations have
  more neurons than trials, and this keeps their fits linear in the neurons.

The minimiser is scikit-learn's: ``C * sum(log-loss) + ||w||^2 / 2`` with an
unpenalised intercept, so the coefficients match ``LogisticRegression(C=C)``
(``tests/test_logistic.py``).
"""

import warnings

import numpy as np
from scipy.linalg import get_lapack_funcs
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data


def fit_logistic(X, Y, C=1.0, sample_weight=None, feature_scale=None, tol=1e-4, max_iter=100):
    """Fit L2 logistic regressions for every batch element, trial group and labelling.

    With more features than trials the fit runs in the dual form, whose cost
    grows with the trials rather than the features; the optimum is the same.

    Parameters
    ----------
    X : array (n_batch, n_trials, n_features)
        Features, e.g. one batch element per time bin; float32 halves the
        time of the matrix products.
    Y : array (n_trials, n_labellings)
        0/1 labels; every column is a separate problem on the same trials
        (the observed labels and their permutations).
    C : float
        Inverse regularisation strength, as in scikit-learn.
    sample_weight : array (n_trials, n_groups), optional
        0/1 weights selecting the training trials of each group (e.g. the
        folds of a cross-validation); default one group of every trial.
    feature_scale : array (n_batch, n_groups, n_features), optional
        Fit as if every feature were divided by its scale in that group,
        without copying ``X``: the penalty falls on ``scale * w``. With each
        group's standard deviations this is a ``StandardScaler`` fitted per
        fold. Default 1.
    tol : float
        Stop when the largest absolute gradient of the mean loss is below this
        (scikit-learn's criterion for its lbfgs solver).
    max_iter : int
        Newton iterations.

    Returns
    -------
    coef : array (n_batch, n_groups, n_labellings, n_features)
        Weights on the features of ``X`` as given; multiplied by
        ``feature_scale`` they are the weights on the scaled features.
    intercept : array (n_batch, n_groups, n_labellings)
    """
    return _fit_logistic(X, Y, C, sample_weight, feature_scale, tol, max_iter)[:2]


def _fit_logistic(X, Y, C, sample_weight, feature_scale, tol, max_iter):
    """``fit_logistic``, also returning the Newton iterations run (the most of any group)."""
    X = np.asarray(X)
    dtype = X.dtype if X.dtype == np.float32 else np.float64
    X = X.astype(dtype, copy=False)
    n_batch, n_trials, n_features = X.shape
    Y = np.asarray(Y, dtype)
    weight = np.ones((n_trials, 1), dtype) if sample_weight is None else np.asarray(sample_weight, dtype)
    n_groups = weight.shape[1]
    scale = np.ones((n_batch, n_groups, n_features), dtype) if feature_scale is None else np.asarray(feature_scale, dtype)
    solver = _fit_dual if n_features > n_trials else _fit_primal
    return solver(X, Y, C, weight, scale, tol, max_iter)


def _fit_primal(X, Y, C, weight, scale, tol, max_iter):
    """``fit_logistic`` by Newton on the weights, every group and labelling in one batch.

    All groups share ``X``, so one Hessian-vector product serves every column;
    the price is a (n_features + 1)^2 preconditioner per batch element.
    """
    n_batch, n_trials, n_features = X.shape
    dtype = X.dtype
    n_labellings, n_groups = Y.shape[1], weight.shape[1]
    # scikit-learn's minimiser, scaled by 1 / (C * n): mean loss + penalty / (C * n).
    n_per_group = weight.sum(axis=0)
    penalty = scale.transpose(0, 2, 1) ** 2 / (C * n_per_group)
    penalty = np.concatenate([penalty, np.zeros((n_batch, 1, n_groups), dtype)], axis=1)
    # Columns are (group, labelling) pairs, group-major.
    Y = np.tile(Y, n_groups)
    weight = np.repeat(weight / n_per_group, n_labellings, axis=1)
    penalty = np.repeat(penalty, n_labellings, axis=2)
    X = np.concatenate([X, np.ones((n_batch, n_trials, 1), dtype)], axis=2)
    Xt = X.transpose(0, 2, 1)
    # Bound on every column's Hessian, up to the trial weights: a preconditioner shared by all.
    bound = Xt @ X / (4 * n_trials) + penalty.mean(axis=2)[:, :, None] * np.eye(n_features + 1, dtype=dtype)
    preconditioner = np.linalg.inv(bound + 1e-6 * np.eye(n_features + 1, dtype=dtype))

    def objective(Z, W):
        return _log_loss(Z, Y, weight) + 0.5 * (penalty * W**2).sum(axis=1)

    def gradient(W, Z):
        P = expit(Z)
        G = Xt @ (weight * (P - Y)) + penalty * W
        return (P, G), np.abs(G).max(axis=1)

    def newton_step(W, Z, state, size):
        P, G = state
        curvature = weight * P * (1 - P)
        step = _conjugate_gradients(
            lambda V: Xt @ (curvature * (X @ V)) + penalty * V,
            -G,
            preconditioner,
            rtol=np.minimum(0.5, np.sqrt(size)),
            max_iter=n_features + 1,
        )
        return step, (G * step).sum(axis=1)

    W = np.zeros((n_batch, n_features + 1, Y.shape[1]), dtype)
    W, n_iter = _damped_newton(W, lambda W: X @ W, objective, gradient, newton_step, tol, max_iter)
    W = W.reshape(n_batch, n_features + 1, n_groups, n_labellings)
    return W[:, :-1].transpose(0, 2, 3, 1), W[:, -1], n_iter


def _fit_dual(X, Y, C, weight, scale, tol, max_iter):
    """``fit_logistic`` in the representer form, one group at a time.

    For one group, with ``a`` its trial weights normalised to sum 1, the
    minimiser is ``sum(a * log-loss(z)) + w' L w / 2``, ``z = X w + b`` and
    ``L = diag(scale^2) / (C * sum(weight))``. Where the gradient vanishes,
    ``w = L^-1 X' beta`` with ``beta = -a * (p - y)``: zero on the trials
    outside the group, which therefore never enter its problem. In ``beta``
    the problem reads ``z = K beta + b`` and penalty ``beta' K beta / 2``,
    with the group's Gram matrix ``K = X_g L^-1 X_g'`` (trials x trials), and
    ``_fit_representer`` solves it.
    """
    n_batch, _, n_features = X.shape
    n_groups, n_labellings = weight.shape[1], Y.shape[1]
    coef = np.empty((n_batch, n_groups, n_labellings, n_features), X.dtype)
    intercept = np.empty((n_batch, n_groups, n_labellings), X.dtype)
    n_iter = 0
    for g, trial_weight in enumerate(weight.T):
        rows = np.flatnonzero(trial_weight)
        inverse_penalty = C * trial_weight.sum() / scale[:, g] ** 2
        coef[:, g], intercept[:, g], group_iter = _fit_representer(
            X, rows, Y[rows], trial_weight[rows] / trial_weight.sum(), inverse_penalty, tol, max_iter
        )
        n_iter = max(n_iter, group_iter)
    return coef, intercept, n_iter


def _fit_representer(X, rows, Y, a, inverse_penalty, tol, max_iter):
    """Newton on (beta, intercept) of one group for every batch element and labelling.

    Each step is the primal Newton step exactly, written in ``beta``: with
    ``h = a * (p - y) + beta`` (``K h`` is the gradient in ``beta``), the
    curvature ``s^2 = a * p * (1 - p)`` and ``M = I + diag(s) K diag(s)``,

        step in beta = -h - s * (M^-1 s) * step in b + s * M^-1 (s * K h),

    with the intercept's step set so that ``sum(beta)`` reaches 0, as it is
    at the optimum. ``M`` has eigenvalues of at least 1 whatever ``K`` (even
    singular, e.g. for repeated trials), so its Cholesky factorisation is
    safe in float32 without a ridge. Every step costs one (trials x trials)
    factorisation per column, and the features enter only through ``X' h``
    for the stopping rule and the final weights.

    Parameters
    ----------
    X : array (n_batch, n_trials, n_features)
        Every trial; only ``rows`` are used.
    rows : array of int
        The group's trials.
    Y : array (len(rows), n_labellings)
    a : array (len(rows),)
        Trial weights summing to 1.
    inverse_penalty : array (n_batch, n_features)
        ``L^-1``.

    Returns
    -------
    coef : array (n_batch, n_labellings, n_features)
    intercept : array (n_batch, n_labellings)
    n_iter : int
    """
    n_batch, n_trials, _ = X.shape
    dtype = X.dtype
    K = np.empty((n_batch, len(rows), len(rows)), dtype)
    for b in range(n_batch):
        scaled = X[b, rows] * np.sqrt(inverse_penalty[b])
        K[b] = scaled @ scaled.T
    a = a[:, None]

    def to_features(V):
        """``(X_g' V)'`` (n_batch, columns, n_features) for V (n_batch, trials, columns) on the group's trials.

        Zero-padded to every trial, so that ``X`` is neither copied nor transposed.
        """
        on_all_trials = np.zeros((n_batch, n_trials, V.shape[2]), dtype)
        on_all_trials[:, rows] = V
        return on_all_trials.transpose(0, 2, 1) @ X

    def linear(theta):
        return K @ theta[:, :-1] + theta[:, -1:]

    def objective(Z, theta):
        # beta' K beta / 2, with K beta = Z - intercept.
        return _log_loss(Z, Y, a) + 0.5 * (theta[:, :-1] * (Z - theta[:, -1:])).sum(axis=1)

    def gradient(theta, Z):
        P = expit(Z)
        residual = a * (P - Y)
        h = residual + theta[:, :-1]
        # The gradient in the weights is X_g' h, in the intercept sum(residual).
        size = np.maximum(np.abs(to_features(h)).max(axis=2), np.abs(residual.sum(axis=1)))
        return (P, residual, h), size

    def newton_step(theta, Z, state, size):
        P, residual, h = state
        s = np.sqrt(a * P * (1 - P))
        Kh = K @ h
        solved = _solve_curvature_systems(K, s, np.stack([s * Kh, s], axis=-1))
        from_h, from_one = solved[..., 0], solved[..., 1]
        step_b = _safe_divide((s * from_h).sum(axis=1) - residual.sum(axis=1), (s * from_one).sum(axis=1))
        step_beta = -h - s * (from_one * step_b[:, None] - from_h)
        slope = (step_beta * Kh).sum(axis=1) + step_b * residual.sum(axis=1)
        return np.concatenate([step_beta, step_b[:, None]], axis=1), slope

    theta = np.zeros((n_batch, len(rows) + 1, Y.shape[1]), dtype)
    theta, n_iter = _damped_newton(theta, linear, objective, gradient, newton_step, tol, max_iter)
    return inverse_penalty[:, None] * to_features(theta[:, :-1]), theta[:, -1], n_iter


def _solve_curvature_systems(K, s, rhs):
    """Solve ``(I + diag(s) K diag(s)) x = rhs`` for every batch element and column.

    K : (n_batch, n, n); s : (n_batch, n, columns); rhs : (n_batch, n, columns, k).
    The matrices are symmetric positive definite, so LAPACK's Cholesky solver
    (posv) applies; looping over them is faster than numpy's batched
    (LU-based) ``solve``, and keeps only one matrix in memory.
    """
    (posv,) = get_lapack_funcs(("posv",), (K,))
    identity = np.eye(K.shape[1], dtype=K.dtype)
    x = np.empty_like(rhs)
    for b in range(K.shape[0]):
        for column in range(s.shape[2]):
            M = s[b, :, column, None] * K[b] * s[b, None, :, column] + identity
            _, x[b, :, column], info = posv(M, rhs[b, :, column], lower=True, overwrite_a=True)
            if info:
                raise np.linalg.LinAlgError(f"Newton system not positive definite (LAPACK posv info={info})")
    return x


def _damped_newton(theta, linear, objective, gradient, newton_step, tol, max_iter):
    """Minimise every column of ``objective(linear(theta), theta)`` by Newton steps and backtracking.

    ``gradient(theta, Z)`` returns what ``newton_step`` needs and each
    column's largest absolute gradient; ``newton_step(theta, Z, state, size)``
    returns the steps and their directional derivatives. Stops when every
    column's gradient is below ``tol``. Returns theta and the steps taken.
    """
    Z = linear(theta)
    loss = objective(Z, theta)
    for n_iter in range(max_iter):
        state, size = gradient(theta, Z)
        if size.max() <= tol:
            return theta, n_iter
        step, slope = newton_step(theta, Z, state, size)
        theta, Z, new_loss = _backtrack(theta, step, slope, loss, linear, objective)
        # In float32 the gradient of a nearly separable problem can stall above
        # tol while the loss no longer changes: that is the optimum to float precision.
        if (loss - new_loss <= 10 * np.finfo(loss.dtype).eps * np.abs(loss)).all():
            return theta, n_iter + 1
        loss = new_loss
    warnings.warn(f"logistic regression did not converge in {max_iter} Newton iterations", ConvergenceWarning)
    return theta, max_iter


def _log_loss(Z, Y, weight):
    """Weighted log-loss of log-odds ``Z`` for 0/1 ``Y``, summed over trials (axis 1)."""
    return (weight * (np.logaddexp(0, Z) - Y * Z)).sum(axis=1)


def _conjugate_gradients(hessian_times, b, preconditioner, rtol, max_iter):
    """Solve H x = b for every column of b at once, to a relative residual of rtol per column."""
    x = np.zeros_like(b)
    r = b.copy()
    target = rtol * np.linalg.norm(b, axis=1)
    z = preconditioner @ r
    d = z
    rz = (r * z).sum(axis=1)
    # A column stops at its own tolerance: iterated on past it (while others
    # still run), its rz / dHd is rounding noise, and the steps it gave kept a
    # batch of network fits from converging in 100 Newton iterations.
    active = np.linalg.norm(r, axis=1) > target
    for _ in range(max_iter):
        Hd = hessian_times(d)
        alpha = np.where(active, _safe_divide(rz, (d * Hd).sum(axis=1)), 0)[:, None]
        x += alpha * d
        r -= alpha * Hd
        active &= np.linalg.norm(r, axis=1) > target
        if not active.any():
            break
        z = preconditioner @ r
        rz, rz_old = (r * z).sum(axis=1), rz
        d = z + _safe_divide(rz, rz_old)[:, None] * d
    return x


def _backtrack(W, step, slope, loss, linear, objective):
    """Halve each column's Newton step until the loss falls enough (Armijo)."""
    scale = np.ones_like(loss)
    for _ in range(30):
        W_new = W + scale[:, None] * step
        Z_new = linear(W_new)
        with np.errstate(over="ignore", invalid="ignore"):
            loss_new = objective(Z_new, W_new)
        # A loss that overflowed (NaN, inf) is too far, not accepted: one accepted
        # NaN column kept the whole batch from ever converging. The slack keeps
        # rounding error (float32) from rejecting steps near the optimum.
        too_far = ~(loss_new <= loss + 1e-4 * scale * slope + 100 * np.finfo(loss.dtype).eps * np.abs(loss))
        if not too_far.any():
            return W_new, Z_new, loss_new
        scale = np.where(too_far, scale / 2, scale)
    # A column no halving helped keeps its point (its loss then stalls, which ends the fit).
    W_new = np.where(too_far[:, None], W, W_new)
    return W_new, linear(W_new), np.where(too_far, loss, loss_new)


def _safe_divide(a, b):
    """a / b, and 0 where b is 0 (columns that have already converged)."""
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


class SlidingLogisticRegression(ClassifierMixin, BaseEstimator):
    """z-scored, L2-regularised logistic regression fitted per time bin.

    The analogue of MNE-Python's ``SlidingEstimator(make_pipeline(
    StandardScaler(), LogisticRegression(C=C)))``, with every bin fitted at
    once. A 2-D ``X`` (trials, features) is one bin, and then the estimator is
    an ordinary binary classifier that passes scikit-learn's
    ``check_estimator``, for ``cross_val_score``, ``clone`` and ``Pipeline``.
    Input is validated as scikit-learn does (numeric, finite; integer spike
    counts become float64), and a model scores only the kind of ``X`` (2-D or
    3-D) it was fitted on.

    Parameters
    ----------
    C : float
        Inverse regularisation strength, as in scikit-learn.
    tol : float
        Largest absolute gradient of the mean loss at convergence.
    max_iter : int
        Newton iterations.

    Attributes
    ----------
    coef_ : array (n_times, n_features)
        Weights on z-scored features, as ``LogisticRegression.coef_`` after a
        ``StandardScaler`` (2-D ``X``: (1, n_features)).
    intercept_ : array (n_times,)
    mean_, scale_ : array (n_times, n_features)
        The z-scoring learned from the training trials of each bin.
    classes_ : array (2,)
    n_features_in_ : int
    n_times_ : int or None
        Time bins of a 3-D ``X``; None for a 2-D one.
    n_iter_ : int
        Newton iterations run.
    """

    def __init__(self, C=1.0, tol=1e-4, max_iter=100):
        self.C = C
        self.tol = tol
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        """Binary only (scikit-learn's checks then give it two classes); 3-D ``X`` accepted."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.three_d_array = True
        return tags

    def fit(self, X, y):
        """Fit on ``X`` (trials, features[, times]) and binary labels ``y``."""
        X, y = validate_data(self, X, y, allow_nd=True, dtype=[np.float64, np.float32])
        self.classes_ = _binary_classes(y)
        self.n_times_ = X.shape[2] if X.ndim == 3 else None
        X = _bins_first(X)
        self.mean_, self.scale_ = standardization(X)
        labels = (y == self.classes_[1])[:, None]
        coef, intercept, self.n_iter_ = _fit_logistic(
            (X - self.mean_[:, None]) / self.scale_[:, None], labels, self.C, None, None, self.tol, self.max_iter
        )
        self.coef_, self.intercept_ = coef[:, 0, 0], intercept[:, 0, 0]
        return self

    def decision_function(self, X):
        """Log-odds of ``classes_[1]``: (trials, times), or (trials,) for 2-D ``X``."""
        X = self._validated(X)
        scores = np.einsum("tnf,tf->nt", (_bins_first(X) - self.mean_[:, None]) / self.scale_[:, None], self.coef_) + self.intercept_
        return scores[:, 0] if X.ndim == 2 else scores

    def predict(self, X):
        """Predicted class per trial (and time bin)."""
        positive = self.decision_function(X) > 0  # first, for its NotFittedError
        return self.classes_[positive.astype(int)]

    def score(self, X, y):
        """Accuracy averaged over trials and time bins (a scalar, for ``cross_val_score``)."""
        truth = np.asarray(y).reshape((-1,) + (1,) * (np.ndim(X) - 2))
        return float(np.mean(self.predict(X) == truth))

    def generalization_decision(self, X):
        """Log-odds of every bin's decoder at every bin of ``X``: (trials, train time, test time).

        ``X`` is (trials, features, times), any number of times. Each decoder
        keeps its own z-scoring, as in MNE's ``GeneralizingEstimator``; the
        whole matrix is one product.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=[np.float64, np.float32])
        if X.ndim != 3:
            raise ValueError(f"generalization_decision needs X of (trials, features, times), got shape {X.shape}")
        weights = self.coef_ / self.scale_
        offset = self.intercept_ - (weights * self.mean_).sum(axis=1)
        return np.einsum("nfs,tf->nts", X, weights) + offset[:, None]

    def _validated(self, X):
        """``X`` checked as scikit-learn does, and of the kind (2-D, or 3-D with as many bins) fitted on."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=[np.float64, np.float32])
        fitted = "2-D X (trials, features)" if self.n_times_ is None else f"3-D X (trials, features, {self.n_times_} times)"
        if (X.ndim == 3) != (self.n_times_ is not None) or (X.ndim == 3 and X.shape[2] != self.n_times_):
            raise ValueError(f"{type(self).__name__} was fitted on {fitted}; got X of shape {X.shape}")
        return X


def _binary_classes(y):
    """The two classes of ``y``; a ValueError, worded as scikit-learn's checks expect, otherwise."""
    target = type_of_target(y, input_name="y", raise_unknown=True)
    if target != "binary":
        raise ValueError(f"Only binary classification is supported. The type of the target is {target}.")
    classes = unique_labels(y)
    if len(classes) != 2:
        raise ValueError(f"SlidingLogisticRegression needs 2 classes, got {len(classes)} class")
    return classes


def standardization(X):
    """Mean and standard deviation of every feature of ``X`` (batch, trials, features).

    A constant feature gets a scale of 1, as in scikit-learn's ``StandardScaler``.
    """
    mean = X.mean(axis=1)
    scale = X.std(axis=1)
    return mean, np.where(scale > 10 * np.finfo(X.dtype).eps * np.abs(mean).clip(1), scale, 1)


def _bins_first(X):
    """(trials, features[, times]) → (times, trials, features)."""
    X = np.asarray(X)
    if X.ndim not in (2, 3):
        raise ValueError(f"X must be (trials, features) or (trials, features, times), got shape {X.shape}")
    return X[None] if X.ndim == 2 else X.transpose(2, 0, 1)
