"""Several planes of one series side by side: one widget per plane, their crosshair and
window linked, one set of labels, one copy of the pixels in the page; and widgets of several
series kept at the same patient position (:func:`link_positions`)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import ipywidgets
import numpy as np
import traitlets

from ..io import Series
from ..kernels.mpr import PLANE_AXES
from ..labels.table import PatientGeometry, _cross, _norm, check_geometry
from .annotator import DicomAnnotator, _split_sources, _study_of
from .links import decode_view_link

__all__ = ["OrthogonalViews", "PositionLink", "link_positions", "voxel_at"]

#: Traits the views share by default: where the planes cross and whether its lines show, the
#: window, the grey scale, and the class, tool and mask opacity chosen (one segment editor).
LINKED = (
    "crosshair",
    "crosshair_lines",
    "window",
    "invert",
    "active_class",
    "tool",
    "mask_opacity",
    "mask_overwrite",
)


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
        ``Series``, a ``Study`` of one series); a single series.
    planes
        The views' planes, left to right: ``"axial"`` (the series' own slices),
        ``"coronal"``, ``"sagittal"``; each at most once.
    link
        The traits the views keep equal (default :data:`LINKED`: the crosshair and its
        lines, the window, invert, and the class, tool, mask opacity and overwrite chosen).
        A bitmask object selected in one view is selected in all (it is painted from every
        plane).
    **kwargs
        For the first view's :class:`DicomAnnotator` (``ontology=``, ``labels=``,
        ``label_path=``, ``window=``, ...); the others share its series and labels. A
        ``view=`` link (:attr:`DicomAnnotator.view_link`) is restored in the view of its
        plane.

    Raises
    ------
    ValueError
        An unknown or repeated plane, or no plane; a source of several series (a study or
        a list: give one of them); a ``view=`` link of a plane not shown, or of another
        series.
    TypeError
        A trait to link that the widget does not have, or a source of a type no widget
        shows.
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
        sources = _split_sources(source)
        if len(sources) > 1:  # the views would each show their own series
            study = _study_of(source) is not None
            raise ValueError(
                f"OrthogonalViews shows one series; the {'study' if study else 'list'} given "
                f"holds {len(sources)} series: give one of them (e.g. "
                f"{'study.series[i]' if study else 'source[i]'}), or browse them all with "
                "DicomAnnotator(source)"
            )
        # a view link is restored in the view of its plane (QA 23a D9: given to the first
        # view, a sagittal MIP's link made the axial view an unrequested rotated MIP)
        link_text = kwargs.pop("view", None)
        target = None
        if link_text is not None:
            target = decode_view_link(link_text)
            if target.view_plane not in planes:
                raise ValueError(
                    f"view: the link is of the {target.view_plane} plane, which is not one of "
                    f"the views ({', '.join(planes)})"
                )
        first = DicomAnnotator(source, **kwargs)
        views = [first]
        try:
            reformats = [p for p in planes if p != "axial"]
            what = (
                "one image"
                if first.series.shape[0] < 2
                else "a cine loop (its frames are moments)"
                if first.series.temporal
                else ""
            )
            if reformats and what:
                # said as OrthogonalViews' (QA 23a: "a coronal reformat needs more than one
                # slice" did not say who asked for one)
                raise ValueError(
                    f"OrthogonalViews shows {', '.join(reformats)} reformats, and this series "
                    f"is {what}: show it with DicomAnnotator(source), or planes=('axial',)"
                )
            views += [DicomAnnotator(first.series, labels=first.labels) for _ in planes[1:]]
            for view, plane in zip(views, planes, strict=True):
                view.plane = plane
                if len(planes) > 1:  # each view shows where the others' planes cut it
                    view.crosshair_lines = True
        except Exception:
            for view in views:
                view.close()
            raise
        self._links = [
            traitlets.link((first, name), (view, name)) for view in views[1:] for name in link
        ]
        # one mask being painted in every view, as the selected segment of Slicer's Segment
        # Editor (QA 23b D7: a stroke in the coronal view made a second object of the class)
        self._sharing = False
        for view in views:
            view.observe(self._share_mask, names="selected")
        if target is not None:
            assert link_text is not None
            try:
                views[planes.index(target.view_plane)].goto(link_text)
            except Exception:
                self.close()
                raise
        super().__init__(views)
        #: The views, one per plane, in the order of ``planes``.
        self.views: tuple[DicomAnnotator, ...] = tuple(views)

    def _share_mask(self, change: dict[str, Any]) -> None:
        """A bitmask object (kept on the series' own slices, painted from every plane)
        selected in one view is selected in the others; its deselection deselects it there.
        Other objects belong to their view's plane: their selection stays in their view."""
        if self._sharing:
            return
        new, old = change["new"], change["old"]
        source = change["owner"]
        obj = self.labels.document.objects.get(new) if isinstance(new, str) else None
        shared = obj is not None and obj.shape == "bitmask" and obj.plane == "axial"
        self._sharing = True
        try:
            for view in self.views:
                if view is source:
                    continue
                if shared:
                    view.selected = new
                elif new is None and old is not None and view.selected == old:
                    view.selected = None
        finally:
            self._sharing = False

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
            with contextlib.suppress(ValueError):  # (closed before, or never observed)
                view.unobserve(self._share_mask, names="selected")
        for view in getattr(self, "views", ()):
            view.close()
        super().close()


def _slice_normal(geometry: PatientGeometry) -> tuple[float, float, float]:
    """The unit normal of the slices (the row and column directions' cross product)."""
    a = geometry.affine
    n = _cross((a[0][0], a[1][0], a[2][0]), (a[0][1], a[1][1], a[2][1]))
    size = _norm(n) or 1.0
    return (n[0] / size, n[1] / size, n[2] / size)


def voxel_at(series: Series, point: Sequence[float]) -> tuple[int, int, int]:
    """The voxel ``(column, row, slice)`` of ``series`` nearest to patient position ``point``
    (LPS mm): the slice whose position along the slices' normal is nearest (each slice where
    its header puts it), then the pixel of that slice under the point, clamped to the image."""
    geometry = check_geometry(series, None, series.shape[0])
    assert geometry is not None
    n_slices, rows, columns = (int(s) for s in series.shape[:3])
    normal = _slice_normal(geometry)
    depth = sum(p * c for p, c in zip(point, normal, strict=True))
    k = min(
        range(n_slices),
        key=lambda s: abs(
            sum(o * c for o, c in zip(geometry.origin(s), normal, strict=True)) - depth
        ),
    )
    o = geometry.origin(k)
    a = geometry.affine
    d = [point[i] - o[i] for i in range(3)]
    # the row and column directions times the spacing: their components of the offset
    m = np.array([[a[i][0] for i in range(3)], [a[i][1] for i in range(3)]], dtype=np.float64)
    column, row = np.linalg.lstsq(m.T, np.asarray(d, dtype=np.float64), rcond=None)[0]
    return (
        min(max(round(float(column)), 0), columns - 1),
        min(max(round(float(row)), 0), rows - 1),
        k,
    )


class PositionLink:
    """Widgets whose crosshairs follow one another by patient position (see
    :func:`link_positions`); :meth:`unlink` ends it."""

    def __init__(self, widgets: Sequence[DicomAnnotator], any_frame: bool = False) -> None:
        self.widgets = list(widgets)
        self.any_frame = any_frame
        self._moving = False
        for w in self.widgets:
            w.observe(self._follow, names="crosshair")

    def _linkable(self, a: DicomAnnotator, b: DicomAnnotator) -> bool:
        """Whether the series the two widgets show now have positions that correspond: a
        widget switched to another series (a prior study, an array) may no longer (QA 23a
        D4: a prior study's crosshair was driven by raw millimetres)."""
        if not (a.series.orientation_known and b.series.orientation_known):
            return False
        fa, fb = a.series.frame_of_reference_uid, b.series.frame_of_reference_uid
        return self.any_frame or not fa or not fb or fa == fb

    def _follow(self, change: dict[str, Any]) -> None:
        if self._moving:
            return  # a crosshair this link is setting
        source = change["owner"]
        followers = [w for w in self.widgets if w is not source and self._linkable(source, w)]
        if not followers:
            return
        point = check_geometry(source.series, None, source.series.shape[0])
        assert point is not None
        mm = point.to_mm(tuple(float(c) for c in source.crosshair))
        self._moving = True
        try:
            for w in followers:
                w.crosshair = voxel_at(w.series, mm)
        finally:
            self._moving = False

    def unlink(self) -> None:
        """Stop following: each widget keeps where it is."""
        for w in self.widgets:
            w.unobserve(self._follow, names="crosshair")


def link_positions(*widgets: DicomAnnotator, any_frame: bool = False) -> PositionLink:
    """Keep the widgets at the same patient position: moving the crosshair (scrolling,
    clicking, a reformat's slice) in one moves the others' to the voxel nearest to that point
    in millimetres, through each series' own geometry (its slice positions, spacing and
    orientation), as radiologists scroll two phases of a CT or two MR sequences together. A
    point beyond a series goes to its nearest slice. A widget switched to a series that could
    not be linked (another frame of reference, no patient geometry) neither follows nor leads
    until it shows one that can.

    Parameters
    ----------
    widgets
        Two or more :class:`DicomAnnotator` widgets (of the same patient and frame of
        reference).
    any_frame
        Link series whose FrameOfReferenceUID differ (their positions do not correspond
        unless they were registered): refused by default.

    Returns
    -------
    PositionLink
        ``.unlink()`` ends it.

    Raises
    ------
    TypeError
        If an argument is not a widget.
    ValueError
        If fewer than two widgets are given, a series has no patient geometry (no
        ImageOrientationPatient), or their series have different frames of reference (and
        ``any_frame`` is False).
    """
    for w in widgets:
        if not isinstance(w, DicomAnnotator):
            raise TypeError(
                f"link_positions: expected DicomAnnotator widgets, got {type(w).__name__}"
            )
    if len(widgets) < 2:
        raise ValueError(f"link_positions: needs two widgets or more, got {len(widgets)}")
    for i, w in enumerate(widgets):
        if not w.series.orientation_known:
            # its affine is a stand-in (voxels as millimetres): a linked crosshair would land
            # on meaningless voxels (QA 23a D4)
            raise ValueError(
                f"link_positions: widget {i + 1}'s series has no patient geometry (no "
                "ImageOrientationPatient; e.g. a NumPy array, a projection radiograph or a "
                "secondary capture): its positions cannot be matched to another series'"
            )
    frames = {w.series.frame_of_reference_uid for w in widgets} - {""}
    if len(frames) > 1 and not any_frame:
        raise ValueError(
            "link_positions: the series have different frames of reference ("
            + ", ".join(sorted(frames))
            + "): their positions do not correspond; pass any_frame=True to link them anyway"
        )
    return PositionLink(widgets, any_frame)
