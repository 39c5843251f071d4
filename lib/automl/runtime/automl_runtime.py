"""Sluice's AutoML runtime: one estimator family's FLAML search, or the gather that picks the best.

Run by the agent as an ordinary job (lib/automl/jobs.ts writes the argv and $SLUICE_AUTOML_CONFIG):

  python3 automl_runtime.py family --train PATH [--valid PATH] --out DIR
      FLAML's search over the estimators of one family, within this job's share of the time budget or
      its share of maxTrials. DIR gets trials.jsonl (every trial), model.pkl (the family's best, as a
      SluiceModel) and summary.json. A family that fails as a whole records that and exits 0: the
      search goes on with the other families.
  python3 automl_runtime.py gather --families DIR... --best-model DIR --leaderboard FILE --featurization FILE
      The best family model (or a soft-voting ensemble of each family's best) as an MLflow-format
      model directory, every trial as JSON lines, and the featurization summary.

Bad input (no rows, no label column, one class) exits 2 with a message naming the column or setting.

Time budget: a family's `timeBudgetS` is its share of the step's wall clock, start-up included, counted
from when the engine created the job ($SLUICE_AUTOML_JOB_CREATED_AT: waiting for an agent and fetching
the inputs count; getting the environment, $SLUICE_ENVIRONMENT_MS, does not) or, without it, from this
process's start. FLAML is given what is left
when the search starts (after the interpreter, the imports, reading and featurizing the data) less
FINISH_RESERVE_S for writing the results; summary.json records each phase (`waitS`, `startupS`,
`searchS`, `finishS`).
"""

import time

LOADED_AT = time.time()  # before the heavy imports below, which count against the budget

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import metrics as M  # noqa: E402
from sluice_automl_model import Featurizer, SluiceModel  # noqa: E402


class BadInput(Exception):
    pass


# Seconds kept back from FLAML's search for what follows it: writing the model and trials. (FLAML's own
# budget already covers its final refit of the best configuration, retrain_full.)
FINISH_RESERVE_S = 0.5


def process_started_at():
    """When this process started (epoch seconds), from /proc: the interpreter's own start-up (and a
    launcher such as a pyenv shim, which execs into it) counts against the budget. Elsewhere, or if
    /proc disagrees, when this module began loading."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        started = time.time() - (uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
        if LOADED_AT - 60 <= started <= LOADED_AT + 0.05:
            return min(started, LOADED_AT)
    except (OSError, ValueError, IndexError):
        pass
    return LOADED_AT


def _env_seconds(name, scale=1.0):
    try:
        v = float(os.environ.get(name, "")) * scale
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def job_created_at():
    """When this job's share starts (epoch seconds): when the engine created it, moved later by the time
    the agent spent getting the environment ($SLUICE_ENVIRONMENT_MS), so that a once-per-machine build
    (or the wait for one) is not taken out of the search. None when the engine did not say."""
    created = _env_seconds("SLUICE_AUTOML_JOB_CREATED_AT")
    if created is None:
        return None
    return created + max(0.0, _env_seconds("SLUICE_ENVIRONMENT_MS", 0.001) or 0.0)


def search_budget(share_s, started_at, now, created_at=None):
    """FLAML's time budget: the family's wall-clock share less what is already spent (since the job was
    created, and at least since this process started: another machine's clock may be behind) and the
    finish reserve; at least one second (FLAML needs a positive budget to run a trial)."""
    spent = now - started_at
    if created_at is not None:
        spent = max(spent, now - created_at)
    return max(1.0, round(share_s - spent - FINISH_RESERVE_S, 2))


def read_table(path, what):
    p = Path(path)
    files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.suffix.lower() in (".csv", ".parquet", ".pq"))
    if not files:
        raise BadInput(f"{what} has no CSV or Parquet file (looked in {p.name})")
    frames = [pd.read_parquet(f) if f.suffix.lower() in (".parquet", ".pq") else pd.read_csv(f) for f in files]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frame) == 0:
        raise BadInput(f"{what} is an empty table: it has no rows")
    return frame


def check_label(frame, cfg, what):
    label = cfg["labelColumn"]
    if label not in frame.columns:
        cols = ", ".join(map(str, list(frame.columns)[:20]))
        raise BadInput(f'labelColumn "{label}" is not a column of {what}; its columns: {cols}')
    y = frame[label]
    if y.isna().all():
        raise BadInput(f'labelColumn "{label}" has no values in {what}')
    if cfg["task"] == "classification" and y.nunique(dropna=True) < 2:
        raise BadInput(
            f'labelColumn "{label}" has one class ({y.dropna().iloc[0]!r}) in {what}; classification needs at least two'
        )
    for c in [cfg.get("timeColumn")] + list(cfg.get("seriesIdColumns") or []):
        if c and c not in frame.columns:
            raise BadInput(f'column "{c}" (timeColumn/seriesIdColumns) is not a column of {what}')


def write_json(path, value):
    Path(path).write_text(json.dumps(value, indent=1, default=str))


# ---------------------------------------------------------------- one family's search


def family(args, cfg):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = process_started_at()
    train = read_table(args.train, "trainingData")
    check_label(train, cfg, "trainingData")
    train = train[train[cfg["labelColumn"]].notna()].reset_index(drop=True)
    valid = None
    if args.valid:
        valid = read_table(args.valid, "validationData")
        check_label(valid, cfg, "validationData")
    task = cfg["task"]
    label = cfg["labelColumn"]
    if task == "forecasting":
        train = train.sort_values(cfg["timeColumn"], kind="stable").reset_index(drop=True)
        if valid is None:
            # The last `horizon` times of every series are held out: the model is scored on the future.
            times = sorted(train[cfg["timeColumn"]].unique())
            cut = times[-cfg["horizon"]] if len(times) > cfg["horizon"] else times[-1]
            valid = train[train[cfg["timeColumn"]] >= cut]
            train = train[train[cfg["timeColumn"]] < cut]
            if len(train) == 0:
                raise BadInput(f"trainingData has too few times for horizon {cfg['horizon']}")
    featurizer = Featurizer(
        cfg["featurization"]["mode"],
        cfg["featurization"].get("columns"),
        cfg.get("timeColumn"),
        cfg.get("seriesIdColumns"),
    ).fit(train.drop(columns=[label]))
    x_train = featurizer.transform(train.drop(columns=[label]))
    classes = None
    if task == "classification":
        classes = sorted(pd.unique(train[label].dropna()).tolist(), key=str)
        index = {c: i for i, c in enumerate(classes)}
        y_train = train[label].map(index).astype(int)
    else:
        y_train = pd.to_numeric(train[label], errors="coerce").astype(float)
    y_range = float(y_train.max() - y_train.min()) if task != "classification" else 1.0
    fit_valid = {}
    if valid is not None:
        x_val = featurizer.transform(valid.drop(columns=[label]))
        if task == "classification":
            unknown = set(valid[label].dropna().unique()) - set(classes)
            if unknown:
                raise BadInput(f'labelColumn "{label}" has classes in validationData that trainingData lacks: {sorted(unknown, key=str)[:5]}')
            y_val = valid[label].map(index).astype(int)
        else:
            y_val = pd.to_numeric(valid[label], errors="coerce").astype(float)
        fit_valid = {"X_val": x_val, "y_val": y_val, "eval_method": "holdout"}
    elif cfg.get("nCrossValidations"):
        fit_valid = {"eval_method": "cv", "n_splits": cfg["nCrossValidations"]}
    elif cfg.get("validationSize"):
        fit_valid = {"eval_method": "holdout", "split_ratio": cfg["validationSize"]}
    write_json(out / "featurization.json", {"mode": featurizer.mode, "columns": featurizer.summary})

    metric = cfg["metric"]
    n_classes = len(classes) if classes else 0
    best = {"score": None}
    exit_score = cfg.get("exitScore")
    from flaml import AutoML

    automl = AutoML()

    def custom_metric(X_val, y_val, estimator, labels, X_train, y_train, *a, **k):
        if task == "classification":
            proba = np.asarray(estimator.predict_proba(X_val))
            if proba.shape[1] != n_classes:  # a fold without some class
                full = np.zeros((proba.shape[0], n_classes))
                for j, c in enumerate(getattr(estimator, "classes_", range(proba.shape[1]))):
                    full[:, int(c)] = proba[:, j]
                proba = full
            scores = M.classification_scores(y_val, proba, n_classes)
        else:
            scores = M.regression_scores(y_val, estimator.predict(X_val), y_range)
        score = scores.get(metric)
        if M.better(metric, score, best["score"]):
            best["score"] = score
        if exit_score is not None and best["score"] is not None and not M.better(metric, exit_score, best["score"]):
            automl._state.time_budget = 0  # FLAML ends its loop after this trial
        return M.loss(metric, scores), scores

    share = cfg.get("timeBudgetS")
    search_start = time.time()
    created = job_created_at()
    budget = search_budget(share, t0, search_start, created) if share else None
    settings = dict(
        task="classification" if task == "classification" else "regression",
        metric=custom_metric,
        estimator_list=cfg["estimators"],
        time_budget=budget if budget else -1,
        max_iter=cfg.get("maxIter"),
        seed=cfg["seed"],
        n_jobs=1,
        log_file_name=str(out / "flaml.log"),
        log_type="all",
        verbose=0,
        early_stop=bool(cfg.get("earlyStop")),
        retrain_full=True,
        skip_transform=True,
        **fit_valid,
    )
    if cfg.get("trialTimeoutS"):
        settings["train_time_limit"] = cfg["trialTimeoutS"]
    status, message = "Completed", None
    try:
        automl.fit(x_train, y_train, **settings)
    except Exception as e:  # the family failed; its trials so far and the error are recorded
        status, message = "Failed", f"{type(e).__name__}: {e}"
        traceback.print_exc()
    search_end = time.time()
    trials = read_trials(out / "flaml.log", cfg)
    if status == "Completed" and getattr(automl, "model", None) is None:
        status, message = "Failed", "no trial finished within the time budget"
    if message and not trials:
        trials.append({"family": cfg["family"], "model": ",".join(cfg["estimators"]), "status": status, "error": message})
    summary = {
        "family": cfg["family"],
        "status": status,
        "error": message,
        "shareS": share,
        "searchBudgetS": budget,
        "waitS": round(t0 - created, 3) if created is not None else None,
        "startupS": round(search_start - t0, 3),
        "searchS": round(search_end - search_start, 3),
    }
    if status == "Completed":
        import joblib

        estimator = automl.model.estimator
        model = SluiceModel(featurizer, estimator, task, classes, label)
        joblib.dump(model, out / "model.pkl")
        summary.update(
            model=automl.best_estimator,
            config=automl.best_config,
            score=best_score(trials, metric),
        )
    with open(out / "trials.jsonl", "w") as f:
        for t in trials:
            f.write(json.dumps(t, default=str) + "\n")
    summary["finishS"] = round(time.time() - search_end, 3)
    summary["seconds"] = round(time.time() - t0, 3)
    write_json(out / "summary.json", summary)
    print(
        f"family {cfg['family']}: {status}, {len(trials)} trials, best {metric} {summary.get('score')}; "
        f"waited {summary['waitS']}s, start-up {summary['startupS']}s, search {summary['searchS']}s (FLAML budget {budget}s of a {share}s share), "
        f"finish {summary['finishS']}s"
    )


def read_trials(log, cfg):
    rows = []
    if not log.exists():
        return rows
    for line in log.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "record_id" not in r:
            continue
        m = r.get("logged_metric")
        m = m if isinstance(m, dict) else {}
        ok = math.isfinite(r.get("validation_loss", math.inf))
        rows.append(
            {
                "family": cfg["family"],
                "model": r.get("learner"),
                "trial": r.get("record_id"),
                "hyperparameters": {k: v for k, v in (r.get("config") or {}).items() if k != "FLAML_sample_size"},
                "sampleSize": r.get("sample_size"),
                "metrics": {k: v for k, v in m.items() if k in M.CLASSIFICATION + M.REGRESSION},
                "durationS": round(float(r.get("trial_time") or 0), 4),
                "status": "Completed" if ok else "Failed",
            }
        )
    return rows


def best_score(trials, metric):
    best = None
    for t in trials:
        v = t.get("metrics", {}).get(metric)
        if t.get("status") == "Completed" and M.better(metric, v, best):
            best = v
    return best


# ---------------------------------------------------------------- gather


def gather(args, cfg):
    t0 = process_started_at()
    created = job_created_at()
    import joblib

    metric = cfg["metric"]
    statuses = cfg.get("familyStatus") or {}
    trials, summaries, models = [], [], []
    featurization = None
    for d in args.families:
        d = Path(d)
        s = json.loads((d / "summary.json").read_text()) if (d / "summary.json").exists() else None
        if not s:
            continue
        summaries.append(s)
        if (d / "trials.jsonl").exists():
            trials += [json.loads(line) for line in (d / "trials.jsonl").read_text().splitlines() if line.strip()]
        if featurization is None and (d / "featurization.json").exists():
            featurization = json.loads((d / "featurization.json").read_text())
        if s.get("status") == "Completed" and (d / "model.pkl").exists():
            models.append((s.get("score"), s["family"], d / "model.pkl"))
    for fam, st in statuses.items():  # families whose job failed or timed out: no rows of their own
        if not any(s["family"] == fam for s in summaries):
            trials.append({"family": fam, "status": st.get("status", "Failed"), "error": st.get("message")})
    ranked = sorted(
        [m for m in models if m[0] is not None],
        key=lambda m: m[0] if metric in M.MINIMIZE else -m[0],
    )
    if not ranked:
        errs = "; ".join(f"{s['family']}: {s.get('error')}" for s in summaries) or "no family finished"
        raise SystemExit(f"no model was trained: {errs}")
    best_score, best_family, best_path = ranked[0]
    model = joblib.load(best_path)
    chosen = {"family": best_family, "score": best_score}
    if cfg.get("ensemble") and len(ranked) > 1:
        members = [joblib.load(p) for _, _, p in ranked[: min(3, len(ranked))]]
        model = SluiceModel(model.featurizer, [e for m in members for e in m.estimators], model.task, model.classes, model.label)
        chosen = {"family": "ensemble", "members": [f for _, f, _ in ranked[: len(members)]], "score": None}
    write_mlflow_model(Path(args.best_model), model, cfg, chosen)
    # Leaderboard: best first, failed trials last.
    def key(t):
        v = (t.get("metrics") or {}).get(metric)
        if t.get("status") != "Completed" or v is None or v != v:
            return (1, 0.0)
        return (0, v if metric in M.MINIMIZE else -v)

    trials.sort(key=key)
    with open(args.leaderboard, "w") as f:
        for rank, t in enumerate(trials, 1):
            f.write(json.dumps({"rank": rank, **t}, default=str) + "\n")
    write_json(args.featurization, featurization or {"mode": cfg["featurization"]["mode"], "columns": []})
    gather_phases = {"waitS": round(t0 - created, 3) if created is not None else None, "seconds": round(time.time() - t0, 3)}
    emit_metrics(metric, best_score, summaries, gather_phases)
    print(f"best: {chosen}")


def emit_metrics(metric, best_score, summaries, gather_phases):
    """The step's metrics ($SLUICE_METRICS): the best primary metric; per family where its job's wall
    clock went (`wait_s.<family>`: job created to process start; `startup_s.<family>`: process start to
    FLAML's search; `search_s.<family>`; `finish_s.<family>`); and the gather's (`gather_wait_s`,
    `gather_s`: process start to here)."""
    path = os.environ.get("SLUICE_METRICS")
    if not path:
        return
    rows = []
    if best_score is not None and math.isfinite(best_score):
        rows.append({"name": metric, "value": float(best_score)})
    for s in summaries:
        for phase in ("waitS", "startupS", "searchS", "finishS"):
            v = s.get(phase)
            if isinstance(v, (int, float)) and math.isfinite(v):
                rows.append({"name": f"{phase[:-1].lower()}_s.{s['family']}", "value": float(v)})
    for phase, name in (("waitS", "gather_wait_s"), ("seconds", "gather_s")):
        v = gather_phases.get(phase)
        if isinstance(v, (int, float)) and math.isfinite(v):
            rows.append({"name": name, "value": float(v)})
    with open(path, "a", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def write_mlflow_model(target, model, cfg, chosen):
    import joblib
    import sklearn

    if target.exists():
        shutil.rmtree(target)
    (target / "code").mkdir(parents=True)
    joblib.dump(model, target / "model.pkl")
    shutil.copy(HERE / "sluice_automl_model.py", target / "code" / "sluice_automl_model.py")
    reqs = ["pandas", "numpy", f"scikit-learn=={sklearn.__version__}", "joblib"]
    for mod, pkg in (("lightgbm", "lightgbm"), ("xgboost", "xgboost")):
        if mod in sys.modules:
            reqs.append(f"{pkg}=={sys.modules[mod].__version__}")
    (target / "requirements.txt").write_text("\n".join(reqs) + "\n")
    py = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    (target / "python_env.yaml").write_text(f"python: {py}\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n")
    (target / "conda.yaml").write_text(
        "channels: [conda-forge]\ndependencies:\n- python=" + py + "\n- pip\n- pip:\n" + "".join(f"  - {r}\n" for r in reqs) + "name: sluice-automl\n"
    )
    (target / "MLmodel").write_text(
        "artifact_path: best_model\n"
        "flavors:\n"
        "  python_function:\n"
        "    loader_module: sluice_automl_model\n"
        "    code: code\n"
        "    data: model.pkl\n"
        "    env:\n"
        "      conda: conda.yaml\n"
        "      virtualenv: python_env.yaml\n"
        f"    python_version: {py}\n"
        f"metadata:\n  sluice_task: {cfg['task']}\n  sluice_label: {json.dumps(cfg['labelColumn'])}\n"
        f"  sluice_primary_metric: {cfg['metric']}\n  sluice_chosen: {json.dumps(json.dumps(chosen, default=str))}\n"
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["family", "gather"])
    p.add_argument("--train")
    p.add_argument("--valid")
    p.add_argument("--out")
    p.add_argument("--families", nargs="*", default=[])
    p.add_argument("--best-model")
    p.add_argument("--leaderboard")
    p.add_argument("--featurization")
    args = p.parse_args()
    cfg = json.loads(os.environ["SLUICE_AUTOML_CONFIG"])
    try:
        family(args, cfg) if args.role == "family" else gather(args, cfg)
    except BadInput as e:
        print(f"automl: {e}", file=sys.stderr)
        if args.role == "family" and args.out:
            # Reported as the family's result: the step fails with this message, naming the column.
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            write_json(out / "summary.json", {"family": cfg.get("family"), "status": "BadInput", "error": str(e)})
            (out / "trials.jsonl").write_text("")
            return
        sys.exit(2)


if __name__ == "__main__":
    main()
