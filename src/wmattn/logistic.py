"""L2-regularised logistic regression for many problems at once.

Time-resolved decoding fits one small logistic regression per time bin, and a
permutation null refits every one of them for every shuffle of the labels.
Fitted one by one (as MNE-Python's ``SlidingEstimator`` does around
scikit-learn), the overhead of thousands of small fits dominates. Here every
time bin and every labelling of the same trials is one column of a batched
Newton solver, so the work is a few large matrix products:

- the Newton system of each problem is solved by conjugate gradients, which
  needs only Hessian-vector products, and those are matrix products shared by
  all labellings of one time bin;
- the conjugate gradients are preconditioned with the labelling-independent
  bound on the logistic Hessian, ``X'X / 4`` (Böhning 1992), inverted once per
  time bin.

The minimiser is scikit-learn's: ``C * sum(log-loss) + ||w||^2 / 2`` with an
unpenalised intercept, so the coefficients match ``LogisticRegression(C=C)``
(``tests/test_logistic.py``).
"""

import warnings

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import unique_labels


def fit_logistic(X, Y, C=1.0, sample_weight=None, feature_scale=None, tol=1e-4, max_iter=100):
    """Fit L2 logistic regressions for every batch element, trial group and labelling.

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
    X = np.asarray(X)
    dtype = X.dtype if X.dtype == np.float32 else np.float64
    n_batch, n_trials, n_features = X.shape
    Y = np.asarray(Y, dtype)
    n_labellings = Y.shape[1]
    weight = np.ones((n_trials, 1), dtype) if sample_weight is None else np.asarray(sample_weight, dtype)
    n_groups = weight.shape[1]
    scale = np.ones((n_batch, n_groups, n_features), dtype) if feature_scale is None else np.asarray(feature_scale, dtype)
    # scikit-learn's minimiser, scaled by 1 / (C * n): mean loss + penalty / (C * n).
    n_per_group = weight.sum(axis=0)
    penalty = scale.transpose(0, 2, 1) ** 2 / (C * n_per_group)
    penalty = np.concatenate([penalty, np.zeros((n_batch, 1, n_groups), dtype)], axis=1)
    # Columns are (group, labelling) pairs, group-major.
    Y = np.tile(Y, n_groups)
    weight = np.repeat(weight / n_per_group, n_labellings, axis=1)
    penalty = np.repeat(penalty, n_labellings, axis=2)
    X = np.concatenate([X.astype(dtype, copy=False), np.ones((n_batch, n_trials, 1), dtype)], axis=2)
    Xt = X.transpose(0, 2, 1)

    def objective(Z, W):
        return (weight * (np.logaddexp(0, Z) - Y * Z)).sum(axis=1) + 0.5 * (penalty * W**2).sum(axis=1)

    # Bound on every column's Hessian, up to the trial weights: a preconditioner shared by all.
    bound = Xt @ X / (4 * n_trials) + penalty.mean(axis=2)[:, :, None] * np.eye(n_features + 1, dtype=dtype)
    preconditioner = np.linalg.inv(bound + 1e-6 * np.eye(n_features + 1, dtype=dtype))
    W = np.zeros((n_batch, n_features + 1, Y.shape[1]), dtype)
    Z = np.zeros((n_batch, n_trials, Y.shape[1]), dtype)
    loss = objective(Z, W)
    for _ in range(max_iter):
        P = expit(Z)
        G = Xt @ (weight * (P - Y)) + penalty * W
        size = np.abs(G).max(axis=1)
        if size.max() <= tol:
            break
        curvature = weight * P * (1 - P)
        step = _conjugate_gradients(
            lambda V: Xt @ (curvature * (X @ V)) + penalty * V,
            -G,
            preconditioner,
            rtol=np.minimum(0.5, np.sqrt(size)),
            max_iter=n_features + 1,
        )
        W, Z, new_loss = _backtrack(W, step, (G * step).sum(axis=1), loss, lambda W: X @ W, objective)
        # In float32 the gradient of a nearly separable problem can stall above
        # tol while the loss no longer changes: that is the optimum to float precision.
        if (loss - new_loss <= 10 * np.finfo(dtype).eps * np.abs(loss)).all():
            break
        loss = new_loss
    else:
        warnings.warn(f"logistic regression did not converge in {max_iter} Newton iterations", ConvergenceWarning)
    shape = (n_batch, n_features + 1, n_groups, n_labellings)
    W = W.reshape(shape)
    return W[:, :-1].transpose(0, 2, 3, 1), W[:, -1]


def _conjugate_gradients(hessian_times, b, preconditioner, rtol, max_iter):
    """Solve H x = b for every column of b at once, to a relative residual of rtol per column."""
    x = np.zeros_like(b)
    r = b.copy()
    target = rtol * np.linalg.norm(b, axis=1)
    z = preconditioner @ r
    d = z
    rz = (r * z).sum(axis=1)
    for _ in range(max_iter):
        Hd = hessian_times(d)
        alpha = _safe_divide(rz, (d * Hd).sum(axis=1))[:, None]
        x += alpha * d
        r -= alpha * Hd
        if (np.linalg.norm(r, axis=1) <= target).all():
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
        loss_new = objective(Z_new, W_new)
        # The slack keeps rounding error (float32) from rejecting steps near the optimum.
        too_far = loss_new > loss + 1e-4 * scale * slope + 100 * np.finfo(loss.dtype).eps * np.abs(loss)
        if not too_far.any():
            break
        scale = np.where(too_far, scale / 2, scale)
    return W_new, Z_new, loss_new


def _safe_divide(a, b):
    """a / b, and 0 where b is 0 (columns that have already converged)."""
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


class SlidingLogisticRegression(ClassifierMixin, BaseEstimator):
    """z-scored, L2-regularised logistic regression fitted per time bin.

    The analogue of MNE-Python's ``SlidingEstimator(make_pipeline(
    StandardScaler(), LogisticRegression(C=C)))``, with every bin fitted at
    once. A 2-D ``X`` (trials, features) is one bin, so the estimator is also
    an ordinary classifier for ``cross_val_score``, ``clone`` and ``Pipeline``.

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
    """

    def __init__(self, C=1.0, tol=1e-4, max_iter=100):
        self.C = C
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y):
        """Fit on ``X`` (trials, features[, times]) and binary labels ``y``."""
        X = _bins_first(X)
        self.classes_ = unique_labels(y)
        if len(self.classes_) != 2:
            raise ValueError(f"SlidingLogisticRegression needs 2 classes, got {len(self.classes_)}")
        self.mean_, self.scale_ = standardization(X)
        labels = (np.asarray(y) == self.classes_[1])[:, None]
        coef, intercept = fit_logistic(
            (X - self.mean_[:, None]) / self.scale_[:, None], labels, self.C, tol=self.tol, max_iter=self.max_iter
        )
        self.coef_, self.intercept_ = coef[:, 0, 0], intercept[:, 0, 0]
        return self

    def decision_function(self, X):
        """Log-odds of ``classes_[1]``: (trials, times), or (trials,) for 2-D ``X``."""
        scores = np.einsum("tnf,tf->nt", (_bins_first(X) - self.mean_[:, None]) / self.scale_[:, None], self.coef_) + self.intercept_
        return scores[:, 0] if np.ndim(X) == 2 else scores

    def predict(self, X):
        """Predicted class per trial (and time bin)."""
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def score(self, X, y):
        """Accuracy averaged over trials and time bins (a scalar, for ``cross_val_score``)."""
        truth = np.asarray(y).reshape((-1,) + (1,) * (np.ndim(X) - 2))
        return float(np.mean(self.predict(X) == truth))

    def generalization_decision(self, X):
        """Log-odds of every bin's decoder at every bin of ``X``: (trials, train time, test time).

        Each decoder keeps its own z-scoring, as in MNE's ``GeneralizingEstimator``;
        the whole matrix is one product.
        """
        weights = self.coef_ / self.scale_
        offset = self.intercept_ - (weights * self.mean_).sum(axis=1)
        return np.einsum("nfs,tf->nts", np.asarray(X), weights) + offset[:, None]


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
