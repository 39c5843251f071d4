"""Score one mini-batch: argv[1] lists the batch's CSV files (one path a line); the model is an input."""
import json
import sys

import numpy as np
import pandas as pd

from sluice import run

listing, threshold = sys.argv[1], float(sys.argv[2])
with open(run.input("model")) as f:
    model = json.load(f)
with open(listing) as f:
    files = [line.strip() for line in f if line.strip()]

frames = [pd.read_csv(path) for path in files]
df = pd.concat(frames, ignore_index=True)
x = (df[model["features"]].to_numpy(dtype=float) - np.array(model["mean"])) / np.array(model["std"])
score = 1 / (1 + np.exp(-(x @ np.array(model["weights"]) + model["bias"])))
out = pd.DataFrame({"id": df["id"], "score": score.round(4), "churn": (score >= threshold).astype(int)})
out.to_csv(run.output("scores"), header=False, index=False)
run.log("rows", len(out))
print("scored %d rows from %d files with pandas %s" % (len(out), len(files), pd.__version__))
