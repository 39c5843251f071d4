"""Fit a logistic regression on the training split, using Sluice's helper (inputs by name, metrics)."""
import pickle

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sluice import run

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_annual", "late_payments"]

df = run.table("data")  # the input CSV as a DataFrame
C = float(run.parameter("C", 1.0))
model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=500))
model.fit(df[FEATURES], df["churned"])
run.log("train_accuracy", model.score(df[FEATURES], df["churned"]))
run.log_list("coefficients", model[-1].coef_[0].tolist())
with open(run.output("model"), "wb") as f:
    pickle.dump(model, f)
print("pandas %s: trained on %d rows" % (pd.__version__, len(df)))
