"""``torch.utils.benchmark``: ``Timer`` runs a statement (a string, with ``setup`` and
``globals``) many times and returns a ``Measurement`` (``.mean``, ``.median``, ``.iqr``,
``.times``, PyTorch's repr); ``Compare`` prints many measurements as one table, grouped by
``label``, rows by ``sub_label`` (or the statement), columns by ``description``."""

from gradfit.utils.benchmark.utils.common import (
    Measurement,
    TaskSpec,
    select_unit,
    trim_sigfig,
    unit_to_english,
)
from gradfit.utils.benchmark.utils.compare import Colorize, Compare
from gradfit.utils.benchmark.utils.timer import Language, Timer

__all__ = [
    "Colorize",
    "Compare",
    "Language",
    "Measurement",
    "TaskSpec",
    "Timer",
    "select_unit",
    "trim_sigfig",
    "unit_to_english",
]
