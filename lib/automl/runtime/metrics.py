"""Azure ML's primary metrics, computed with scikit-learn and scipy, for FLAML's custom-metric hook.

FLAML minimises a loss; every metric here is reported as its score, and `loss()` turns the primary one
into what FLAML minimises (1 - score for scores to maximise, the value itself for errors).
"""

import numpy as np
from sklearn import metrics as m

CLASSIFICATION = ("accuracy", "AUC_weighted", "average_precision_score_weighted", "norm_macro_recall", "precision_score_weighted")
REGRESSION = ("spearman_correlation", "normalized_root_mean_squared_error", "r2_score", "normalized_mean_absolute_error")
MINIMIZE = {"normalized_root_mean_squared_error", "normalized_mean_absolute_error"}


def classification_scores(y_true, proba, n_classes):
    y_true = np.asarray(y_true).astype(int)
    pred = np.argmax(proba, axis=1)
    labels = list(range(n_classes))
    onehot = np.eye(n_classes)[y_true]
    out = {"accuracy": float(m.accuracy_score(y_true, pred))}
    try:
        if n_classes == 2:
            out["AUC_weighted"] = float(m.roc_auc_score(y_true, proba[:, 1]))
        else:
            out["AUC_weighted"] = float(m.roc_auc_score(onehot, proba, average="weighted"))
    except ValueError:
        out["AUC_weighted"] = float("nan")
    try:
        out["average_precision_score_weighted"] = float(m.average_precision_score(onehot, proba, average="weighted"))
    except ValueError:
        out["average_precision_score_weighted"] = float("nan")
    # Macro recall rescaled so that chance is 0 and perfect is 1 (Azure ML's definition).
    r = m.recall_score(y_true, pred, labels=labels, average="macro", zero_division=0)
    out["norm_macro_recall"] = float(max(0.0, (r - 1 / n_classes) / (1 - 1 / n_classes)))
    out["precision_score_weighted"] = float(m.precision_score(y_true, pred, labels=labels, average="weighted", zero_division=0))
    return out


def regression_scores(y_true, pred, y_range):
    y_true = np.asarray(y_true, dtype=float)
    pred = np.asarray(pred, dtype=float)
    span = y_range if y_range > 0 else 1.0
    from scipy.stats import spearmanr

    rho = spearmanr(y_true, pred).statistic if len(y_true) > 1 else float("nan")
    return {
        "spearman_correlation": float(rho) if rho == rho else 0.0,
        "normalized_root_mean_squared_error": float(np.sqrt(m.mean_squared_error(y_true, pred)) / span),
        "r2_score": float(m.r2_score(y_true, pred)),
        "normalized_mean_absolute_error": float(m.mean_absolute_error(y_true, pred) / span),
    }


def loss(metric, scores):
    v = scores.get(metric, float("nan"))
    if v != v:
        return float("inf")
    return v if metric in MINIMIZE else 1.0 - v


def better(metric, a, b):
    """Whether score a beats score b (None loses)."""
    if b is None or b != b:
        return a is not None and a == a
    if a is None or a != a:
        return False
    return a < b if metric in MINIMIZE else a > b
