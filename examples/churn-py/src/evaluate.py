"""Held-out metrics. An Azure ML-style script: Run.get_context(), input_datasets, run.log / log_row."""
import json
import pickle

from azureml.core import Run
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

from sluice import run as sluice_run

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_annual", "late_payments"]

run = Run.get_context()
test = run.input_datasets["test"].to_pandas_dataframe()
model_path = run.input_datasets["model"].download()[0]
with open(model_path, "rb") as f:
    model = pickle.load(f)

proba = model.predict_proba(test[FEATURES])[:, 1]
pred = (proba >= 0.5).astype(int)
y = test["churned"]
report = {
    "auc": roc_auc_score(y, proba),
    "accuracy": accuracy_score(y, pred),
    "precision": precision_score(y, pred),
    "recall": recall_score(y, pred),
}
for name, value in report.items():
    run.log(name, value)
for cls in (0, 1):
    run.log_row("per_class", label=cls, support=int((y == cls).sum()))
with open(sluice_run.output("report"), "w") as f:
    json.dump(report, f, indent=2)
print(json.dumps(report))
