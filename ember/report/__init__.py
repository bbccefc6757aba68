"""The training report: one self-contained HTML page per run (`ember report RUN`), plus the helpers it is made of."""

from __future__ import annotations

from .html import build_report, confusion_matrix, write_report
from .png import encode_png, png_data_uri
from .run_files import RunFolderError, RunMetrics, read_metrics
from .svg import Series, confusion_matrix_svg, line_chart

__all__ = [
    "RunFolderError",
    "RunMetrics",
    "Series",
    "build_report",
    "confusion_matrix",
    "confusion_matrix_svg",
    "encode_png",
    "line_chart",
    "png_data_uri",
    "read_metrics",
    "write_report",
]
