"""Scores one mini-batch of CSV files with an automl step's best_model and appends the predictions.

  python3 score.py MINIBATCH_LIST MODEL_DIR OUT_FILE

The model loads with joblib (its code/ directory holds the one class it needs); with MLflow installed,
mlflow.pyfunc.load_model(MODEL_DIR) gives the same predictions.
"""

import sys
from pathlib import Path

import joblib
import pandas as pd

listing, model_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
sys.path.insert(0, str(model_dir / "code"))
model = joblib.load(model_dir / "model.pkl")
with open(out, "a") as f:
    for path in Path(listing).read_text().split():
        frame = pd.read_csv(path)
        truth = frame.pop("diagnosis") if "diagnosis" in frame.columns else None
        for i, p in enumerate(model.predict(frame)):
            f.write(f"{Path(path).name},{i},{p},{'' if truth is None else truth.iloc[i]}\n")
