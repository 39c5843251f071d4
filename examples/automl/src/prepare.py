"""Writes scikit-learn's bundled data sets as CSV (no download): the training tables and a batch to score.

  python3 prepare.py CANCER_DIR DIABETES_DIR TO_SCORE_DIR
"""

import sys
from pathlib import Path

from sklearn.datasets import load_breast_cancer, load_diabetes

cancer_dir, diabetes_dir, score_dir = (Path(p) for p in sys.argv[1:4])
for d in (cancer_dir, diabetes_dir, score_dir):
    d.mkdir(parents=True, exist_ok=True)

cancer = load_breast_cancer(as_frame=True).frame
cancer["diagnosis"] = cancer.pop("target").map({0: "malignant", 1: "benign"})
# Every 8th row is held back: the batch the best model scores at the end (labels kept for checking).
held = cancer.index % 8 == 0
cancer[~held].to_csv(cancer_dir / "train.csv", index=False)
batch = cancer[held].reset_index(drop=True)
for i in range(0, len(batch), 25):
    batch.iloc[i : i + 25].to_csv(score_dir / f"part-{i // 25:03d}.csv", index=False)

diabetes = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "progression"})
diabetes.to_csv(diabetes_dir / "train.csv", index=False)
print(f"cancer {int((~held).sum())} rows (+{int(held.sum())} to score), diabetes {len(diabetes)} rows")
