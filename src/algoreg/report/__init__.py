"""Reports: result tables and figures from study stores."""

from .markdown import study_section, write_results
from .plot import plot_summary
from .table import flatten, format_rows, method_label, result_rows, select_best, summarize

__all__ = [
    "flatten",
    "format_rows",
    "method_label",
    "plot_summary",
    "result_rows",
    "select_best",
    "study_section",
    "summarize",
    "write_results",
]
