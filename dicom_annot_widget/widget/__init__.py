"""The notebook widgets (anywidget): traitlets and message handlers, nothing numeric."""

from .annotator import DicomAnnotator

__all__ = ["DicomAnnotator"]
