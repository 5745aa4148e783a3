"""Several planes of one series side by side: one widget per plane, their crosshair and
window linked, one set of labels, one copy of the pixels in the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets
import traitlets

from ..kernels.mpr import PLANE_AXES
from .annotator import DicomAnnotator

__all__ = ["OrthogonalViews"]

#: Traits the views share by default: where the planes cross, the window, the grey scale.
LINKED = ("crosshair", "window", "invert")


class OrthogonalViews(ipywidgets.HBox):
    """The axial, coronal and sagittal planes of one series side by side (or the ``planes``
    given), as a radiologist reads a CT: scrolling one view moves the crosshair lines of the
    others, windowing one windows all, and an object drawn or painted in any view is in
    :attr:`labels` and shown by every view where its plane cuts it.

    Each view is a :class:`DicomAnnotator` of the same :class:`~dicom_annot_widget.io.Series`
    (:attr:`views`, in the order of ``planes``), so every control and method of the widget is
    there; the page holds one copy of the series' pixels for all of them.

    Parameters
    ----------
    source
        What :class:`DicomAnnotator` opens (a folder, files, a NIfTI file, an array, a
        ``Series``); a single series.
    planes
        The views' planes, left to right: ``"axial"`` (the series' own slices),
        ``"coronal"``, ``"sagittal"``; each at most once.
    link
        The traits the views keep equal (default :data:`LINKED`).
    **kwargs
        For the first view's :class:`DicomAnnotator` (``ontology=``, ``labels=``,
        ``label_path=``, ``window=``, ...); the others share its series and labels.

    Raises
    ------
    ValueError
        An unknown or repeated plane, or no plane.
    TypeError
        A trait to link that the widget does not have.
    """

    def __init__(
        self,
        source: Any,
        planes: Sequence[str] = ("axial", "coronal", "sagittal"),
        *,
        link: Sequence[str] = LINKED,
        **kwargs: Any,
    ) -> None:
        if isinstance(planes, str) or not isinstance(planes, Sequence):
            raise ValueError(f"planes must be a sequence of plane names, got {planes!r}")
        planes = tuple(planes)
        bad = [p for p in planes if p not in PLANE_AXES]
        if bad or not planes or len(set(planes)) != len(planes):
            raise ValueError(
                f"planes must name each of {', '.join(PLANE_AXES)} at most once, got {planes!r}"
            )
        unknown = [name for name in link if not DicomAnnotator.class_own_traits().get(name)]
        if isinstance(link, str) or unknown:
            raise TypeError(f"link: not traits of the widget: {unknown or link!r}")
        first = DicomAnnotator(source, **kwargs)
        views = [first]
        try:
            views += [DicomAnnotator(first.series, labels=first.labels) for _ in planes[1:]]
            for view, plane in zip(views, planes, strict=True):
                view.plane = plane
        except Exception:
            for view in views:
                view.close()
            raise
        self._links = [
            traitlets.link((first, name), (view, name)) for view in views[1:] for name in link
        ]
        super().__init__(views)
        #: The views, one per plane, in the order of ``planes``.
        self.views: tuple[DicomAnnotator, ...] = tuple(views)

    @property
    def labels(self) -> Any:
        """The labels every view shows and edits (the first view's)."""
        return self.views[0].labels

    @property
    def series(self) -> Any:
        """The series the views show."""
        return self.views[0].series

    def close(self) -> None:
        """Unlink and close the views, then this box."""
        # (also called by ipywidgets when a construction failed half way: nothing made yet)
        for lk in getattr(self, "_links", ()):
            lk.unlink()
        self._links = []
        for view in getattr(self, "views", ()):
            view.close()
        super().close()
