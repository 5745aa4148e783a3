"""The notebook widgets (anywidget): traitlets and message handlers, nothing numeric."""

from .annotator import DicomAnnotator
from .layout import OrthogonalViews

__all__ = ["DicomAnnotator", "OrthogonalViews"]
