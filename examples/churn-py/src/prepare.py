"""Generate synthetic customers with a known churn mechanism and split them 80/20.

Written for Azure ML (Run.get_context, run.log) and moved to Sluice unchanged. It builds the table
row block by row block with DataFrame.append, which pandas 2 removed: this step pins pandas 1.5.3.
"""
import argparse

import numpy as np
import pandas as pd
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=4000)
parser.add_argument("--seed", type=int, default=7)
parser.add_argument("--train", required=True)
parser.add_argument("--test", required=True)
args = parser.parse_args()

run = Run.get_context()
rng = np.random.default_rng(args.seed)

df = pd.DataFrame()
for start in range(0, args.rows, 1000):
    n = min(1000, args.rows - start)
    tenure = rng.integers(1, 72, n)
    charges = rng.uniform(20, 120, n).round(2)
    calls = rng.poisson(1.5, n)
    annual = rng.integers(0, 2, n)
    late = rng.poisson(0.8, n)
    logit = -1.0 - 0.05 * tenure + 0.025 * charges + 0.45 * calls - 1.2 * annual + 0.5 * late
    churn = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    block = pd.DataFrame({
        "tenure_months": tenure, "monthly_charges": charges, "support_calls": calls,
        "contract_annual": annual, "late_payments": late, "churned": churn,
    })
    df = df.append(block, ignore_index=True)  # pandas < 2 only

test_mask = rng.uniform(0, 1, len(df)) < 0.2
df[~test_mask].to_csv(args.train, index=False)
df[test_mask].to_csv(args.test, index=False)
run.log("rows", len(df))
run.log("churn_rate", float(df["churned"].mean()))
print("pandas %s: %d train rows, %d test rows" % (pd.__version__, (~test_mask).sum(), test_mask.sum()))
