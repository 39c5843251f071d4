"""Sum up the gathered scores (header-less CSV: id,score,churn) as metrics and a JSON summary."""
import json

import pandas as pd

from sluice import run

scores = pd.read_csv(run.input("scores"), header=None, names=["id", "score", "churn"])
summary = {"scored": int(len(scores)), "flagged": int(scores["churn"].sum())}
for name, value in summary.items():
    run.log(name, value)
with open(run.output("summary"), "w") as f:
    json.dump(summary, f)
print(json.dumps(summary))
