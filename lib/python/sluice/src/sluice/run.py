"""The running step, as the agent describes it in environment variables.

Inputs and outputs by name (``SLUICE_INPUTS`` / ``SLUICE_OUTPUTS``: JSON objects name -> path),
parameters (``SLUICE_PARAMETERS``), and metrics appended as JSON lines to ``SLUICE_METRICS``, which the
agent reads when the step ends (the same file any script may write).
"""

import json
import math
import os
import shutil
import sys
import time

__all__ = ["input", "output", "parameter", "parameters", "log", "log_list", "log_row", "log_image",
           "table", "run_id", "step_name"]

_counters = {}


def _mapping(var):
    raw = os.environ.get(var)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise RuntimeError("%s is not JSON; is this script running under a Sluice agent?" % var)
    return value if isinstance(value, dict) else {}


def _lookup(var, what, name):
    values = _mapping(var)
    if name in values:
        return values[name]
    known = ", ".join(sorted(values)) or "none"
    hint = "" if os.environ.get("SLUICE_RUN_ID") else " (not running under Sluice: SLUICE_RUN_ID is unset)"
    raise KeyError("The step has no %s %r; its %ss: %s%s" % (what, name, what, known, hint))


def input(name):  # noqa: A001 - the name users expect
    """The local path of input ``name`` (a file, or a directory for directory inputs)."""
    return _lookup("SLUICE_INPUTS", "input", name)


def output(name):
    """The path to write output ``name`` to; a directory output's directory already exists."""
    path = _lookup("SLUICE_OUTPUTS", "output", name)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    return path


def parameters():
    """The run parameters this step references (in its command or env), by name."""
    return _mapping("SLUICE_PARAMETERS")


def parameter(name, default=None):
    """One parameter's value, or ``default``."""
    return parameters().get(name, default)


def run_id():
    return os.environ.get("SLUICE_RUN_ID")


def step_name():
    return os.environ.get("SLUICE_STEP")


def _emit(record):
    path = os.environ.get("SLUICE_METRICS")
    line = json.dumps(record, separators=(",", ":"))
    if not path:
        sys.stderr.write("[sluice] metric (no SLUICE_METRICS): %s\n" % line)
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def _number(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError("metric %r must be a number, not %r" % (name, value))
    if math.isnan(v) or math.isinf(v):
        raise ValueError("metric %r must be finite, not %r" % (name, value))
    return v


def log(name, value, step=None):
    """Records a numeric metric. Repeated names form a series (``step`` counts up by itself)."""
    v = _number(name, value)
    if step is None:
        step = _counters.get(name, 0)
    _counters[name] = int(step) + 1
    _emit({"name": str(name), "value": v, "step": step,
           "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def log_list(name, values):
    """Records a list of numbers as the series ``name`` (step 0, 1, 2, ...)."""
    for i, v in enumerate(values):
        log(name, v, step=i)


def log_row(name, **columns):
    """Records one row of a table: numeric columns become metrics ``name.column`` at the row's index."""
    row = _counters.get("\0row:" + name, 0)
    _counters["\0row:" + name] = row + 1
    for col, v in columns.items():
        try:
            log("%s.%s" % (name, col), v, step=row)
        except (TypeError, ValueError):
            sys.stderr.write("[sluice] log_row %s: column %s is not a number; skipped\n" % (name, col))


def log_image(name, path=None, plot=None):
    """Keeps an image (a file path, or a matplotlib figure/pyplot) with the step.

    It is saved to ``$SLUICE_IMAGES/<name>.png``; the agent stores it with the step, which lists it under
    ``images`` (name, content hash) in the API, served by ``GET /api/artifacts/{hash}``.
    """
    target_dir = os.environ.get("SLUICE_IMAGES")
    if not target_dir:
        sys.stderr.write("[sluice] log_image %s: no SLUICE_IMAGES directory; skipped\n" % name)
        return None
    os.makedirs(target_dir, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))[:100] or "image"
    target = os.path.join(target_dir, safe + ".png")
    if plot is not None:
        plot.savefig(target)
    elif path is not None:
        shutil.copyfile(path, target)
    else:
        raise ValueError("log_image needs a path or a plot")
    return target


def _read_one(path, pd):
    lower = path.lower()
    if lower.endswith(".parquet") or lower.endswith(".pq"):
        return pd.read_parquet(path)
    if lower.endswith(".json") or lower.endswith(".jsonl"):
        return pd.read_json(path, lines=lower.endswith(".jsonl"))
    if lower.endswith(".tsv"):
        return pd.read_csv(path, sep="\t")
    return pd.read_csv(path)


def read_table(path):
    """A pandas DataFrame of a CSV/Parquet/JSON file, or of every such file in a directory (concatenated)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("reading tables needs pandas: add it to the step's environment requirements")
    if os.path.isdir(path):
        files = []
        for root, _dirs, names in os.walk(path):
            for n in names:
                if n.lower().rsplit(".", 1)[-1] in ("csv", "tsv", "parquet", "pq", "json", "jsonl"):
                    files.append(os.path.join(root, n))
        files.sort()
        if not files:
            raise ValueError("%s has no CSV, Parquet or JSON files" % path)
        frames = [_read_one(f, pd) for f in files]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return _read_one(path, pd)


def table(name):
    """Input ``name`` as a pandas DataFrame (CSV, Parquet, JSON; a directory's files concatenated)."""
    return read_table(input(name))
