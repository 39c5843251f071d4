"""The model a Sluice automl step writes as `best_model`: featurization and estimator in one object.

This file is copied into every best_model directory (code/), so a pickled model loads wherever pandas,
scikit-learn and the chosen library are installed:

    import sys, joblib; sys.path.insert(0, "best_model/code")
    model = joblib.load("best_model/model.pkl"); model.predict(frame)

or, with MLflow, `mlflow.pyfunc.load_model("best_model")` (the MLmodel file names this module as the
loader). Nothing here imports FLAML: the estimators are the plain LightGBM / XGBoost / scikit-learn ones.
"""

import numpy as np
import pandas as pd

DATE_PARTS = ("year", "month", "day", "day_of_week", "hour")


class Featurizer:
    """Turns a raw table into the numeric frame the estimators were trained on.

    `auto`: numeric columns imputed (median unless overridden), low-cardinality text as categories
    (integer codes, unseen values -1), datetimes split into parts, id-like and constant columns dropped.
    `off`: only what a model cannot do without: text to category codes, datetimes to parts.
    Per-column overrides set a column's type (numeric, categorical, datetime, text, ignore) and imputation.
    """

    def __init__(self, mode="auto", columns=None, time_column=None, series_columns=None, lags=0):
        self.mode = mode
        self.overrides = columns or {}
        self.time_column = time_column
        self.series_columns = list(series_columns or [])
        self.lags = lags
        self.plan = []  # one entry per source column: name, type, action, fill, categories
        self.summary = []

    def fit(self, frame):
        n = len(frame)
        for col in frame.columns:
            o = self.overrides.get(col, {})
            s = frame[col]
            kind = o.get("type")
            detected = _detect(s, col == self.time_column)
            kind = kind or detected
            entry = {"column": col, "detected": detected, "type": kind, "transformations": []}
            if kind == "ignore":
                entry["transformations"].append("dropped (override)")
                self.plan.append({"column": col, "type": "ignore"})
                self.summary.append(entry)
                continue
            if self.mode == "auto" and col not in self.series_columns and col != self.time_column:
                if s.nunique(dropna=True) <= 1:
                    entry["transformations"].append("dropped (constant)")
                    self.plan.append({"column": col, "type": "ignore"})
                    self.summary.append(entry)
                    continue
                if kind in ("categorical", "text") and n > 20 and s.nunique(dropna=True) >= 0.95 * n:
                    entry["transformations"].append("dropped (an id: almost every value unique)")
                    self.plan.append({"column": col, "type": "ignore"})
                    self.summary.append(entry)
                    continue
            step = {"column": col, "type": kind}
            if kind == "numeric":
                values = pd.to_numeric(s, errors="coerce")
                impute = o.get("impute", "median" if self.mode == "auto" else None)
                if impute:
                    step["fill"] = _fill(values, impute, o.get("fillValue"))
                    if values.isna().any():
                        entry["transformations"].append(f"missing values imputed ({impute})")
            elif kind == "datetime":
                entry["transformations"].append("split into " + ", ".join(DATE_PARTS))
            else:
                text = s.astype("string")
                impute = o.get("impute", "mostFrequent" if self.mode == "auto" else None)
                if impute:
                    step["fill"] = str(_fill(text, impute, o.get("fillValue")))
                cats = sorted(text.dropna().unique().tolist())
                step["categories"] = cats
                entry["transformations"].append(f"category codes ({len(cats)} values)")
            self.plan.append(step)
            self.summary.append(entry)
        if self.lags:
            self.summary.append({"column": "(lags)", "type": "numeric", "transformations": [f"label lags {self.lags}..{self.lags + 2} per series"]})
        return self

    def transform(self, frame):
        out = {}
        for step in self.plan:
            col, kind = step["column"], step["type"]
            if kind == "ignore":
                continue
            s = frame[col] if col in frame.columns else pd.Series([None] * len(frame), index=frame.index)
            if kind == "numeric":
                v = pd.to_numeric(s, errors="coerce").astype("float64")
                out[col] = v.fillna(step["fill"]) if "fill" in step else v
            elif kind == "datetime":
                t = pd.to_datetime(s, errors="coerce")
                for part in DATE_PARTS:
                    out[f"{col}__{part}"] = getattr(t.dt, part).astype("float64")
            else:
                text = s.astype("string")
                if "fill" in step:
                    text = text.fillna(step["fill"])
                codes = pd.Categorical(text, categories=step["categories"]).codes
                out[col] = codes.astype("float64")
        result = pd.DataFrame(out, index=frame.index)
        return result

    def columns_in(self):
        return [s["column"] for s in self.plan]


class SluiceModel:
    """Featurizer + estimator (or a soft-voting ensemble of estimators), with the label's classes."""

    def __init__(self, featurizer, estimators, task, classes=None, label=None, lag_source=None):
        self.featurizer = featurizer
        self.estimators = estimators if isinstance(estimators, list) else [estimators]
        self.task = task
        self.classes = classes
        self.label = label
        self.lag_source = lag_source

    def _features(self, frame):
        frame = frame.drop(columns=[self.label], errors="ignore") if self.label else frame
        return self.featurizer.transform(frame)

    def predict_proba(self, frame):
        x = self._features(frame)
        return np.mean([e.predict_proba(x) for e in self.estimators], axis=0)

    def predict(self, frame):
        if self.task == "classification":
            idx = np.argmax(self.predict_proba(frame), axis=1)
            return np.asarray(self.classes, dtype=object)[idx]
        x = self._features(frame)
        return np.mean([e.predict(x) for e in self.estimators], axis=0)


def _detect(series, is_time):
    if is_time or pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "categorical"


def _fill(values, how, constant):
    if how == "constant":
        return constant
    if how == "mean":
        return float(values.mean()) if values.notna().any() else 0.0
    if how == "median":
        return float(values.median()) if values.notna().any() else 0.0
    mode = values.mode(dropna=True)
    return mode.iloc[0] if len(mode) else ""


class _PyFunc:
    def __init__(self, model):
        self.model = model

    def predict(self, model_input, params=None):
        return self.model.predict(pd.DataFrame(model_input))


def _load_pyfunc(path):
    """MLflow's loader_module hook: `path` is the model file."""
    import joblib

    return _PyFunc(joblib.load(path))
