#!/usr/bin/env bash
# The AutoML runtime (lib/automl/runtime) runs FLAML with scikit-learn, LightGBM and XGBoost, reading
# CSV/Parquet with pandas and pyarrow. Installs them into the agent's python3 when missing; a no-op
# (one import) when they are there. MLflow is optional: best_model loads with joblib without it.
set -euo pipefail
PY="${SLUICE_PYTHON:-python3}"
if "$PY" -c 'import flaml, sklearn, lightgbm, xgboost, pandas, pyarrow' >/dev/null 2>&1; then
  echo "automl: python packages present"
  exit 0
fi
"$PY" -m pip install --quiet --disable-pip-version-check \
  'flaml==2.7.0' 'scikit-learn>=1.4' 'lightgbm==4.7.0' 'xgboost>=2' 'pandas>=2' 'pyarrow>=14' 'joblib'
"$PY" -c 'import flaml, sklearn, lightgbm, xgboost, pandas, pyarrow; print("automl: flaml", flaml.__version__)'
