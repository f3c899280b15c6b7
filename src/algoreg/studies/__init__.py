"""Studies: study files, grid expansion, the results store, executors and presets."""

from .config import Axis, Study, StudyError, parse_override
from .executors import RunSummary, pin_threads, run_study
from .grid import Trial, expand, init_seed, make_batches, trial_id
from .load import load_study
from .presets import PRESETS, preset_path
from .store import Store

__all__ = [
    "PRESETS",
    "Axis",
    "RunSummary",
    "Store",
    "Study",
    "StudyError",
    "Trial",
    "expand",
    "init_seed",
    "load_study",
    "make_batches",
    "parse_override",
    "pin_threads",
    "preset_path",
    "run_study",
    "trial_id",
]
