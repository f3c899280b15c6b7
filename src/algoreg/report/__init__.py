"""Reports: result tables and figures from study stores."""

from .analysis import StudyReport, build_report, load_report, write_figure
from .html import register_section, write_html, write_study_html
from .markdown import study_section, write_results
from .plot import plot_histories, plot_spectra, plot_summary
from .table import (
    flatten,
    format_rows,
    method_label,
    result_rows,
    select_best,
    summarize,
    trial_time,
)

__all__ = [
    "StudyReport",
    "build_report",
    "flatten",
    "format_rows",
    "load_report",
    "method_label",
    "plot_histories",
    "plot_spectra",
    "plot_summary",
    "register_section",
    "result_rows",
    "select_best",
    "study_section",
    "summarize",
    "trial_time",
    "write_figure",
    "write_html",
    "write_results",
    "write_study_html",
]
