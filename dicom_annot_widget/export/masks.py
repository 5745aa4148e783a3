"""Labels -> per-object 3D boolean masks (the common step of every voxel export).

Rules
-----
* ``bitmask`` objects: their voxels (:meth:`Labels.get_mask`).
* ``polygon`` keyframes: rasterised with the project's scanline fill
  (:func:`dicom_annot_widget.kernels.contours.polygons_to_mask`, the rasteriser the widget uses):
  a pixel is inside when its centre (integer coordinates) lies inside the polygon.
* ``bounding_box`` keyframes: the same rule applied to the box's four corners, so a box
  ``(x0, y0, x1, y1)`` covers the pixels with ``x0 <= column < x1`` and ``y0 <= row < y1`` for
  integer corners, and exactly the pixels it encloses for corners on pixel edges
  (``(9.5, 9.5, 20.5, 24.5)`` covers columns 10..20 and rows 10..24).
* ``point``, ``polyline`` and ``primitive`` objects have no area: they are left out and listed in
  :attr:`ObjectMasks.skipped` (unless asked for by uuid, which is an error).
* Only objects drawn in the series' own slice plane (``"axial"`` in label terms: ``volume[k]``)
  can be exported; any other is refused with an error naming it.
* Pending predictions (not accepted yet) are left out unless ``include_pending=True``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import LabelError
from ..kernels.contours import polygons_to_mask
from ..labels import Box, LabelObject, Labels, Mask, Polygon

__all__ = ["AREA_SHAPES", "ExportError", "ObjectMasks", "SkippedObject", "object_masks"]

#: Object shapes that cover voxels and can be exported as masks.
AREA_SHAPES = ("bitmask", "polygon", "bounding_box")

#: The label plane whose slices are the series' own slices (``volume[k]``).
NATIVE_PLANE = "axial"


class ExportError(LabelError):
    """The labels (or the series) cannot be exported as asked; the message says why."""


@dataclass(frozen=True)
class SkippedObject:
    """An object left out of an export, and why."""

    uuid: str
    object_id: int
    feature: str
    shape: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "uuid": self.uuid,
            "object_id": self.object_id,
            "feature": self.feature,
            "shape": self.shape,
            "reason": self.reason,
        }


def _no_area(obj: LabelObject) -> str:
    return f"a {obj.shape} has no area"


def _describe(obj: LabelObject) -> str:
    return f"object {obj.object_id} ({obj.feature!r}, uuid {obj.uuid})"


def _resolve(labels: Labels, item: Any) -> LabelObject:
    if isinstance(item, LabelObject):
        item = item.uuid
    if isinstance(item, bool) or not isinstance(item, (str, int, np.integer)):
        raise ExportError(
            f"objects: expected object uuids (str) or object_ids (int), got "
            f"{type(item).__name__} {item!r}"
        )
    try:
        if isinstance(item, str):
            return labels.get(item)
        return labels.by_object_id(int(item))
    except LabelError as exc:
        raise ExportError(f"objects: {exc}") from None


def select_objects(
    labels: Labels, objects: Iterable[Any] | None, include_pending: bool
) -> tuple[list[LabelObject], list[SkippedObject]]:
    """The objects to export (object_id order) and the ones left out.

    ``objects=None`` takes every object, leaving out those without area and pending
    predictions (listed as skipped). Objects named explicitly must all be exportable.
    """
    if not isinstance(labels, Labels):
        raise TypeError(f"labels: expected a Labels, got {type(labels).__name__}")
    chosen: list[LabelObject] = []
    skipped: list[SkippedObject] = []
    if objects is None:
        for obj in labels.objects():
            if obj.shape not in AREA_SHAPES:
                reason = _no_area(obj)
            elif obj.pending and not include_pending:
                reason = "pending prediction (not accepted; pass include_pending=True)"
            else:
                chosen.append(obj)
                continue
            skipped.append(SkippedObject(obj.uuid, obj.object_id, obj.feature, obj.shape, reason))
    else:
        if isinstance(objects, (str, int)):
            objects = [objects]
        seen: set[str] = set()
        for item in objects:
            obj = _resolve(labels, item)
            if obj.uuid in seen:
                continue
            seen.add(obj.uuid)
            if obj.shape not in AREA_SHAPES:
                raise ExportError(
                    f"{_describe(obj)} cannot be exported as a mask: {_no_area(obj)} "
                    f"(exportable shapes: {', '.join(AREA_SHAPES)})"
                )
            if obj.pending and not include_pending:
                raise ExportError(
                    f"{_describe(obj)} is a pending prediction; accept it first or pass "
                    "include_pending=True"
                )
            chosen.append(obj)
        chosen.sort(key=lambda o: o.object_id)
    if not chosen:
        if objects is not None:
            n = len(labels)
            raise ExportError(
                "nothing to export: objects= is an empty selection (the labels have "
                f"{n} object{'' if n == 1 else 's'}; objects=None exports every object with "
                "an area)"
            )
        why = "; ".join(f"object {s.object_id}: {s.reason}" for s in skipped[:5])
        raise ExportError(
            "nothing to export: no selected object covers any area"
            + (f" ({why})" if why else " (the labels have no objects)")
        )
    return chosen, skipped


def _keyframe_mask(obj: LabelObject, k: int, rows: int, columns: int) -> npt.NDArray[np.bool_]:
    geometry = obj.keyframes[k].geometry
    if isinstance(geometry, Polygon):
        return polygons_to_mask(np.asarray(geometry.points, dtype=np.float64), (rows, columns))
    if isinstance(geometry, Box):
        corners = np.asarray(geometry.corners, dtype=np.float64)
        return polygons_to_mask(corners, (rows, columns))
    raise ExportError(  # pragma: no cover - shapes are checked before
        f"{_describe(obj)}: cannot rasterise a {type(geometry).__name__} keyframe"
    )


def object_mask(labels: Labels, obj: LabelObject) -> npt.NDArray[np.bool_]:
    """One object as a boolean volume ``(slices, rows, columns)``. A shape drawn on a
    reformat fills the voxels of its plane image (``volume[:, row, :]`` for a coronal one,
    ``volume[:, :, column]`` for a sagittal one)."""
    if obj.shape == "bitmask":
        return labels.get_mask(obj.uuid)
    slices, rows, columns = labels.series.shape
    volume = np.zeros((slices, rows, columns), dtype=np.bool_)
    for k in obj.keyframes:
        if obj.plane == "coronal":
            volume[:, k, :] = _keyframe_mask(obj, k, slices, columns)
        elif obj.plane == "sagittal":
            volume[:, :, k] = _keyframe_mask(obj, k, slices, rows)
        else:
            volume[k] = _keyframe_mask(obj, k, rows, columns)
    return volume


def object_slice_masks(
    labels: Labels, obj: LabelObject
) -> Iterator[tuple[int, npt.NDArray[np.bool_]]]:
    """``(slice, 2D mask (rows, columns))`` for each slice of the series an object covers:
    what the exports write, without a full volume per object (with thousands of objects the
    volumes cost minutes)."""
    _, rows, columns = labels.series.shape
    if obj.plane != NATIVE_PLANE:  # drawn on a reformat: through the volume
        volume = object_mask(labels, obj)
        for index in np.flatnonzero(volume.any(axis=(1, 2))):
            yield int(index), volume[index]
        return
    for k, kf in obj.keyframes.items():
        if obj.shape == "bitmask":
            assert isinstance(kf.geometry, Mask)
            yield k, kf.geometry.to_array()
        else:
            yield k, _keyframe_mask(obj, k, rows, columns)


class ObjectMasks(Mapping[str, npt.NDArray[np.bool_]]):
    """Read-only mapping ``uuid -> boolean volume (slices, rows, columns)``, in object_id order.

    Masks are computed when accessed (one full volume each), so iterating over many objects
    does not hold them all in memory at once.

    Attributes
    ----------
    objects
        The exported :class:`~dicom_annot_widget.labels.LabelObject` s, by uuid.
    skipped
        Objects left out (no area, pending prediction), with the reason.
    shape
        ``(slices, rows, columns)``.
    """

    def __init__(
        self, labels: Labels, objects: list[LabelObject], skipped: list[SkippedObject]
    ) -> None:
        self._labels = labels
        self.objects: dict[str, LabelObject] = {o.uuid: o for o in objects}
        self.skipped: tuple[SkippedObject, ...] = tuple(skipped)
        self.shape: tuple[int, int, int] = tuple(labels.series.shape)  # type: ignore[assignment]

    def __getitem__(self, uuid: str) -> npt.NDArray[np.bool_]:
        obj = self.objects.get(uuid)
        if obj is None:
            raise KeyError(uuid)
        return object_mask(self._labels, obj)

    def __iter__(self) -> Iterator[str]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def __repr__(self) -> str:
        return f"ObjectMasks({len(self)} objects, shape={self.shape}, skipped={len(self.skipped)})"


def object_masks(
    labels: Labels,
    *,
    objects: Iterable[Any] | None = None,
    include_pending: bool = False,
) -> ObjectMasks:
    """Per-object 3D boolean masks of shape ``(slices, rows, columns)``.

    Parameters
    ----------
    labels
        The label document.
    objects
        Object uuids (or object_ids) to export; default: every object with an area.
        Naming an object without area, a pending one (without ``include_pending``) or an
        unknown one is an error.
    include_pending
        Include predictions not yet accepted.

    Returns
    -------
    ObjectMasks
        ``uuid -> mask`` (computed on access), plus ``skipped``: points, polylines and
        primitives (no area) and pending predictions that were left out.

    Raises
    ------
    ExportError
        Unknown object, or nothing left to export. (Objects drawn on a coronal or sagittal
        reformat fill the voxels of their plane image.)

    Notes
    -----
    Polygons and boxes are rasterised by pixel centre (see the module docstring), with the
    rasteriser the widget shows; interpolated keyframes count like drawn ones.
    """
    chosen, skipped = select_objects(labels, objects, include_pending)
    return ObjectMasks(labels, chosen, skipped)
