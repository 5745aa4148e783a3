"""The notebook widgets (anywidget): traitlets and message handlers, nothing numeric."""

from .annotator import DicomAnnotator
from .layout import OrthogonalViews, PositionLink, link_positions

__all__ = ["DicomAnnotator", "OrthogonalViews", "PositionLink", "link_positions"]
