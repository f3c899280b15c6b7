"""Reports: result tables and figures from study stores."""

from .plot import plot_summary
from .table import flatten, format_rows, method_label, result_rows, select_best, summarize

__all__ = [
    "flatten",
    "format_rows",
    "method_label",
    "plot_summary",
    "result_rows",
    "select_best",
    "summarize",
]
