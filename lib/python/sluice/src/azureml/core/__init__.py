"""``from azureml.core import Run`` for scripts moved from Azure ML to Sluice, unchanged.

Covers what step scripts use: ``Run.get_context()``, ``run.log / log_list / log_row / log_image /
log_table``, ``run.input_datasets[name]`` with ``to_pandas_dataframe()``, ``download()`` and
``as_mount()``, ``run.parent`` and tags, and no-op ``complete / flush / upload_file``. Anything else
raises ``NotImplementedError`` naming the Sluice equivalent.
"""

import os
import shutil

from sluice import run as _run

__all__ = ["Run", "Dataset", "Workspace", "Experiment"]


class _Dataset(object):
    """A step input seen as an Azure ML dataset (tabular or file)."""

    def __init__(self, name, path):
        self.name = name
        self.path = path

    def to_pandas_dataframe(self):
        return _run.read_table(self.path)

    def _files(self):
        if os.path.isdir(self.path):
            out = []
            for root, _d, names in os.walk(self.path):
                out.extend(os.path.join(root, n) for n in names)
            return sorted(out)
        return [self.path]

    def to_path(self):
        base = self.path if os.path.isdir(self.path) else os.path.dirname(self.path)
        return ["/" + os.path.relpath(f, base) for f in self._files()]

    def download(self, target_path=None, overwrite=False):
        """Copies the files to ``target_path`` (or returns them in place) and lists their paths."""
        if target_path is None:
            return self._files()
        os.makedirs(target_path, exist_ok=True)
        base = self.path if os.path.isdir(self.path) else os.path.dirname(self.path)
        out = []
        for f in self._files():
            dest = os.path.join(target_path, os.path.relpath(f, base))
            if os.path.exists(dest) and not overwrite:
                raise RuntimeError("%s exists; pass overwrite=True" % dest)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(f, dest)
            out.append(dest)
        return out

    def as_mount(self):
        return _Mount(self.path)

    def as_download(self):
        return self


class _Mount(object):
    def __init__(self, path):
        self.mount_point = path

    def start(self):
        return self

    def stop(self):
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Datasets(dict):
    def __missing__(self, key):
        raise KeyError("The step has no input %r; its inputs: %s" % (key, ", ".join(sorted(self)) or "none"))


class Run(object):
    """The current step (a child run); ``parent`` is the pipeline run."""

    def __init__(self, run_id, tags, parent=None):
        self.id = run_id
        self.tags = dict(tags)
        self.parent = parent
        self.properties = {}

    @classmethod
    def get_context(cls, allow_offline=True):
        params = _run.parameters()
        tags = dict((k, str(v)) for k, v in params.items())
        run_id = os.environ.get("SLUICE_RUN_ID", "offline")
        parent = Run(run_id, dict(tags, **{"sluice.run": run_id}))
        step = Run("%s/%s" % (run_id, os.environ.get("SLUICE_STEP", "offline")), tags, parent)
        return step

    @property
    def input_datasets(self):
        return _Datasets(
            (name, _Dataset(name, path)) for name, path in _run._mapping("SLUICE_INPUTS").items()
        )

    @property
    def output_datasets(self):
        return dict(_run._mapping("SLUICE_OUTPUTS"))

    def get_tags(self):
        return dict(self.tags)

    def tag(self, key, value=None):
        self.tags[key] = value

    def set_tags(self, tags):
        self.tags.update(tags)

    def log(self, name, value, description="", step=None):
        _run.log(name, value, step=step)

    def log_list(self, name, value, description=""):
        _run.log_list(name, value)

    def log_row(self, name, description=None, **kwargs):
        _run.log_row(name, **kwargs)

    def log_table(self, name, value, description=""):
        for col, values in value.items():
            _run.log_list("%s.%s" % (name, col), values)

    def log_image(self, name, path=None, plot=None, description=""):
        return _run.log_image(name, path=path, plot=plot)

    def upload_file(self, name, path_or_stream):
        return None

    def complete(self, **kwargs):
        return None

    def flush(self, timeout_seconds=300):
        return None

    def __getattr__(self, item):
        raise NotImplementedError(
            "azureml.core.Run.%s is not provided by Sluice's compatibility layer; use sluice.run "
            "(inputs, outputs, parameters, metrics) instead" % item
        )


class Dataset(object):
    """``Dataset.get_by_name`` is not available inside a step: declare the dataset as a step input."""

    @staticmethod
    def get_by_name(workspace, name, version="latest"):
        raise NotImplementedError(
            "Dataset.get_by_name: in Sluice, bind the dataset to a step input (inputs: {x: %s@%s}) and read "
            "Run.get_context().input_datasets['x']" % (name, version)
        )


class Workspace(object):
    @staticmethod
    def from_config(*args, **kwargs):
        raise NotImplementedError("Workspace is not available inside a Sluice step")


class Experiment(object):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Experiment is not available inside a Sluice step")
