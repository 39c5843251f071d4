"""Sluice's helper for Python steps: ``from sluice import run``."""

from . import run  # noqa: F401
from .run import input, output, parameter, log, log_list, log_row, log_image, table  # noqa: F401,A004

__all__ = ["run", "input", "output", "parameter", "log", "log_list", "log_row", "log_image", "table"]
__version__ = "0.1.0"
