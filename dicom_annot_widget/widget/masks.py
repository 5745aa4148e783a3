"""Bitmask painting, mask patches and polygon auto-segmentation for the widget.

The widget's ``paint``, ``get_masks``, ``interpolate`` and ``autosegment`` messages and the
matching Python methods (:meth:`DicomAnnotator.paint <dicom_annot_widget.DicomAnnotator.paint>`,
``brush``, ``erase``, ``threshold_brush``, ``autosegment``) share the functions here, so a stroke
gives the same mask whether it comes from the page or from a script.

Strokes are painted with the kernels of :mod:`dicom_annot_widget.kernels.brush` (coverage rule
documented there) on the object's mask of one slice, then committed to the labels as ONE
operation (one revision, one undo step). On a coronal or sagittal reformat a bitmask object's
masks (kept on the series' own slices) are cut by the plane, painted there with the brush
round in millimetres (spacing ``(row, column) = (slice spacing / column spacing, 1)``: the
radius stays in the image's column pixels) and written back, one row (or column) of each slice
the strokes touch, as one batch:

* a bitmask object gets ``set_keyframe`` (``create_object`` for a new one); a slice painted
  empty loses its keyframe (``delete_keyframe``), an object left without keyframes is deleted;
* a polygon object's keyframe is rasterised, painted and traced back to a polygon with the same
  uuid (:func:`~dicom_annot_widget.kernels.contours.mask_to_ring`, kept importable from here).
  The label model stores one ring per keyframe, so holes and separate parts are joined to the
  outer ring by zero-width bridges ("keyhole" polygon): the ring fills exactly the traced region
  under the even-odd and the non-zero rule.

Masks travel to the page as ``masks`` messages (their fields: ``widget/protocol.py``): per object a
box ``[x0, y0, x1, y1]`` (exclusive ends) and one binary buffer, ``numpy.packbits`` of the box's
bits in row-major order.
"""

from __future__ import annotations

import math
import threading
import weakref
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import LabelError
from ..kernels.autoseg import refine_polygon
from ..kernels.brush import apply_stroke, stroke_patch, threshold_patch
from ..kernels.contours import mask_to_polygons, mask_to_ring, polygons_to_mask
from ..kernels.mpr import plane_image
from ..labels import Labels, Mask
from ..labels.document import LabelObject
from ..labels.geometry import Polygon
from ..labels.operations import (
    Batch,
    CreateObject,
    DeleteKeyframe,
    DeleteObject,
    Operation,
    SetKeyframe,
    without_keyframe,
)
from .protocol import Stroke

__all__ = [
    "MaskItem",
    "PaintResult",
    "autosegment",
    "encode_bits",
    "mask_crc",
    "mask_to_ring",
    "masks_message",
    "paint",
    "plane_spacing",
    "plane_values",
    "slice_masks",
    "slice_values",
]

#: Douglas-Peucker tolerance (pixels) when a painted polygon is traced back.
POLYGON_TOLERANCE = 0.5
#: Shapes a paint stroke may edit.
PAINTABLE = ("bitmask", "polygon")


#: Checksums of the last few mask texts, by identity of the text (see mask_crc).
_crcs: dict[int, tuple[str, int]] = {}
_crcs_lock = threading.Lock()
_CRCS_KEPT = 4  # (a stroke checksums its mask twice; large texts are not kept long)


def mask_crc(mask: Mask) -> int:
    """A checksum of one slice's mask (CRC-32 of its run-length text): ``labels_state`` gives
    it per mask keyframe and each ``masks`` item for the slice's mask after it, so the page
    knows which slices' cached masks are current without asking for them again after every
    edit (on a reformat it keeps every slice's masks).

    The last few are kept: a stroke's mask is checksummed for its patch and again for the
    labels state, and a speckled 2048 x 2048 mask's text is megabytes."""
    text = mask.rle
    with _crcs_lock:  # (the page's messages and a script's thread both ask)
        hit = _crcs.get(id(text))
    if hit is not None and hit[0] is text:
        return hit[1]
    crc = zlib.crc32(text.encode("ascii"))
    with _crcs_lock:
        if len(_crcs) >= _CRCS_KEPT:
            _crcs.pop(next(iter(_crcs)), None)
        _crcs[id(text)] = (text, crc)
    return crc


@dataclass(frozen=True, eq=False)
class MaskItem:
    """One item of a ``masks`` message: the bits of ``box`` (``(x0, y0, x1, y1)``, exclusive
    ends; None when empty) of one object's mask on a slice.

    ``full`` True: the box holds the object's whole mask on that slice (zero outside);
    False: a patch replacing that region only. ``area`` is the object's foreground pixel count
    on the whole slice, ``crc`` the :func:`mask_crc` of that whole mask (0 when empty)."""

    uuid: str
    box: tuple[int, int, int, int] | None
    bits: NDArray[np.bool_]
    full: bool
    area: int
    crc: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON part of the item (its bits go in the message's buffer)."""
        return {
            "uuid": self.uuid,
            "box": None if self.box is None else list(self.box),
            "full": self.full,
            "area": self.area,
            "crc": self.crc,
        }


@dataclass(frozen=True, eq=False)
class PaintResult:
    """What one paint did: the revision after it, and the mask patches the page needs, as
    ``(slice, item)`` on the series' own slices (none for polygon objects, whose new outline
    reaches the page through ``labels_state``, and when nothing changed; several for a stroke
    on a reformat)."""

    revision: int
    changed: bool
    patches: tuple[tuple[int, MaskItem], ...] = ()


def encode_bits(bits: NDArray[np.bool_]) -> bytes:
    """Row-major bits packed with :func:`numpy.packbits` (big bit order):
    ``ceil(rows * cols / 8)`` bytes."""
    return np.packbits(np.ascontiguousarray(bits, dtype=bool).ravel()).tobytes()


def masks_message(
    series_id: str, k: int, revision: int, items: list[MaskItem]
) -> tuple[dict[str, Any], list[bytes]]:
    """A ``masks`` message and its buffers (one per item, empty for an item without a box)."""
    content = {
        "type": "masks",
        "series": series_id,
        "slice": int(k),
        "revision": int(revision),
        "items": [item.to_json() for item in items],
    }
    return content, [encode_bits(item.bits) for item in items]


def _box_of(mask: NDArray[np.bool_]) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _crop(mask: NDArray[np.bool_], box: tuple[int, int, int, int] | None) -> NDArray[np.bool_]:
    if box is None:
        return np.zeros((0, 0), dtype=bool)
    x0, y0, x1, y1 = box
    return mask[y0:y1, x0:x1]


def slice_masks(labels: Labels, k: int) -> list[MaskItem]:
    """``full`` items for every axial bitmask object with a keyframe on slice ``k``."""
    items = []
    for obj in labels.objects(slice=k, plane="axial"):
        if obj.shape != "bitmask":
            continue
        geometry = obj.keyframes[k].geometry
        assert isinstance(geometry, Mask)
        array = geometry.to_array()
        box = _box_of(array)
        items.append(
            MaskItem(obj.uuid, box, _crop(array, box), True, int(geometry.area), mask_crc(geometry))
        )
    return items


# -- painting --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SliceValues:
    """The values a threshold stroke compares with its range: ``stored * slope + intercept``
    in float64 (the page computes its threshold preview the same way from the stored values
    it receives, so both sides agree on every pixel)."""

    stored: NDArray[Any]
    slope: float
    intercept: float


def slice_values(series: Any, k: int) -> SliceValues:
    """Stored values and rescale of slice ``k`` of ``series`` (single-channel images only)."""
    stored = np.asarray(series.get_stored_slice(k))
    if stored.ndim != 2:
        raise LabelError(
            f"the threshold brush needs a single-channel image; slice {k} has shape {stored.shape}"
        )
    slope, intercept = (float(v) for v in series.rescale(k))
    if stored.dtype.kind == "f" and stored.dtype.itemsize < 8 and (slope, intercept) == (1.0, 0.0):
        # compare in float64 like the page (NumPy would compare float32 with a float32 bound)
        stored = stored.astype(np.float64)
    return SliceValues(stored, slope, intercept)


def _target(
    labels: Labels,
    uuid: str,
    feature: str | None,
    what: str,
    plane: str = "axial",
    erasing: bool = False,
) -> LabelObject | None:
    """The object a paint on ``plane`` edits (None: a new bitmask object of ``feature``),
    checked: a bitmask object (kept on the series' own slices, painted from any plane) or a
    polygon drawn on that plane. Strokes that only erase never make an object."""
    obj = labels.document.objects.get(uuid)
    if obj is None:
        if erasing:
            raise LabelError(f"{what}: unknown object {uuid!r}: there is nothing to erase")
        if feature is None:
            raise LabelError(
                f"{what}: unknown object {uuid!r}; give 'feature' (a bitmask class) to create it"
            )
        cls = labels.ontology.feature(feature)
        if cls.shape != "bitmask":
            raise LabelError(
                f"{what}: feature {cls.id!r} is a {cls.shape} class; painting creates bitmask "
                "objects only"
            )
        return None
    if feature is not None and labels.ontology.feature(feature).id != obj.feature:
        raise LabelError(
            f"{what}: object {obj.object_id} is a {obj.feature!r}, not a {feature!r}; an object "
            "keeps its class"
        )
    if obj.shape not in PAINTABLE:
        raise LabelError(
            f"{what}: object {obj.object_id} is a {obj.shape}; only bitmask and polygon objects "
            "can be painted"
        )
    if obj.shape == "bitmask" and obj.plane != "axial":
        raise LabelError(
            f"{what}: object {obj.object_id} is a mask of the {obj.plane} plane; masks are kept "
            "on the series' own (axial) slices"
        )
    if obj.shape == "polygon" and obj.plane != plane:
        raise LabelError(
            f"{what}: object {obj.object_id} is drawn in the {obj.plane} plane; paint it there, "
            f"not on the {plane} plane"
        )
    return obj


#: Per labels, the mask text of the last stroke painted and its array: the next stroke on that
#: slice starts from it rather than decoding the text again (about 25 ms for a speckled
#: 2048 x 2048 mask). Matched by identity of the text; a stroke gets a copy.
_last_painted: weakref.WeakKeyDictionary[Labels, tuple[str, NDArray[np.bool_]]] = (
    weakref.WeakKeyDictionary()
)


def _current_mask(
    obj: LabelObject | None, k: int, shape: tuple[int, int], labels: Labels | None = None
) -> NDArray[np.bool_]:
    keyframe = None if obj is None else obj.keyframes.get(k)
    if keyframe is None:
        return np.zeros(shape, dtype=bool)
    geometry = keyframe.geometry
    if isinstance(geometry, Mask):
        last = _last_painted.get(labels) if labels is not None else None
        if last is not None and last[0] is geometry.rle and last[1].shape == shape:
            return last[1].copy()
        return geometry.to_array()
    assert isinstance(geometry, Polygon)
    return polygons_to_mask(np.asarray(geometry.points, dtype=np.float64), shape)


def paint_mask(
    mask: NDArray[np.bool_],
    strokes: tuple[Stroke, ...],
    values: SliceValues | None,
    spacing: tuple[float, float] | None = None,
) -> NDArray[np.bool_]:
    """Apply ``strokes`` in order to a copy of ``mask`` (rows, cols) with the brush kernels.

    ``values`` (:func:`slice_values`) are needed by threshold strokes only; ``spacing``
    ``(row, column)`` makes the brush round on anisotropic pixels (see :func:`plane_spacing`).
    """
    out = mask.copy()
    for stroke in strokes:
        patch = stroke_patch(stroke.points, stroke.radius, out.shape, spacing=spacing)
        if stroke.tool == "threshold":
            if values is None or stroke.range is None:
                raise LabelError("a threshold stroke needs the slice's values and a range")
            lo, hi = stroke.range
            patch = threshold_patch(
                patch, values.stored, lo, hi, slope=values.slope, intercept=values.intercept
            )
        apply_stroke(out, patch, "erase" if stroke.tool == "eraser" else "paint", inplace=True)
    return out


def paint(
    labels: Labels,
    series: Any,
    uuid: str,
    k: int,
    strokes: tuple[Stroke, ...],
    feature: str | None = None,
    plane: str = "axial",
    what: str = "paint",
    overwrite: bool = False,
) -> PaintResult:
    """Paint ``strokes`` into object ``uuid`` on slice ``k`` of ``plane`` as one edit.

    Parameters
    ----------
    labels
        The labels to edit.
    series
        The series shown: threshold strokes compare its modality values of slice ``k``
        (``stored * slope + intercept`` in float64, as ``series.get_slice(k)`` gives them up
        to its dtype's rounding) with their range.
    uuid
        A bitmask or polygon object, or the uuid of a new bitmask object of ``feature``.
    k
        Slice index in ``plane``.
    strokes
        Validated strokes (:func:`~dicom_annot_widget.widget.protocol.parse_strokes`), in the
        plane image's pixels.
    feature
        Class of a new object (id, name or hotkey); if given for an existing object it must
        be that object's class.
    plane
        ``"axial"`` (the series' own slices), ``"coronal"`` or ``"sagittal"``. On a reformat a
        bitmask object is edited where the plane cuts it; a polygon must be of that plane.
    what
        The caller's name, which error messages start with (``"brush"``, ``"erase"``...).
    overwrite
        The pixels a bitmask object gains are taken from the other bitmask objects there, in
        the same edit (each voxel then belongs to one object, as in a labelmap: 3D Slicer's
        "overwrite other segments", OHIF's labelmap brush); by default masks may overlap.

    Raises
    ------
    LabelError
        Unknown object without a bitmask ``feature``, an object that cannot be painted, a
        slice out of range, read-only labels. Nothing changes then.
    """
    with labels._lock:  # read, paint and commit against one state of the labels
        return _paint_locked(labels, series, uuid, k, strokes, feature, plane, what, overwrite)


def plane_spacing(series: Any, plane: str) -> tuple[float, float] | None:
    """``(row, column)`` spacing of ``plane``'s images relative to their column spacing (the
    page computes the same quotient from ``series_info.spacing``), so that the brush is round
    in millimetres; None for square pixels (the series' own slices of most series: a disc
    in pixels). On the series' own slices of non-square pixels the brush was round in pixels,
    an ellipse in millimetres (QA 21b D7)."""
    spacing = [float(v) for v in series.spacing]
    if plane == "axial":
        row, column = spacing[1], spacing[2]
    else:
        row, column = spacing[0], (spacing[2] if plane == "coronal" else spacing[1])
    ratio = row / column if column > 0 else 1.0
    if not (math.isfinite(ratio) and ratio > 0):
        ratio = 1.0
    if plane == "axial" and ratio == 1.0:
        return None
    return (ratio, 1.0)


def plane_values(series: Any, plane: str, k: int) -> SliceValues:
    """Modality values (float64, ``stored * slope + intercept`` of each slice, the page's
    arithmetic) of reformat ``k`` of ``plane``: one row per slice of the series."""
    rows = []
    for z in range(int(series.shape[0])):
        stored = np.asarray(series.get_stored_slice(z))
        if stored.ndim != 2:
            raise LabelError(
                f"the threshold brush needs a single-channel image; slice {z} has shape "
                f"{stored.shape}"
            )
        line = stored[k, :] if plane == "coronal" else stored[:, k]
        slope, intercept = (float(v) for v in series.rescale(z))
        rows.append(line.astype(np.float64) * slope + intercept)
    return SliceValues(np.stack(rows), 1.0, 0.0)


def _paint_locked(
    labels: Labels,
    series: Any,
    uuid: str,
    k: int,
    strokes: tuple[Stroke, ...],
    feature: str | None,
    plane: str,
    what: str = "paint",
    overwrite: bool = False,
) -> PaintResult:
    width, height, n = labels.document.plane_size(plane)
    if not 0 <= k < n:
        where = "the series has" if plane == "axial" else f"the {plane} plane has"
        raise LabelError(f"{what}: slice {k} is out of range ({where} {n} slices)")
    labels._check_writable()  # refuse in review mode even when the strokes change nothing
    erasing = all(s.tool == "eraser" for s in strokes)
    obj = _target(labels, uuid, feature, what, plane, erasing)
    if plane != "axial" and (obj is None or obj.shape == "bitmask"):
        return _paint_cut(labels, series, uuid, feature, obj, plane, k, strokes, overwrite)
    shape = (height, width)
    before = _current_mask(obj, k, shape, labels)
    needs_image = any(s.tool == "threshold" for s in strokes)
    values = None
    if needs_image:
        values = slice_values(series, k) if plane == "axial" else plane_values(series, plane, k)
    after = paint_mask(before, strokes, values, plane_spacing(series, plane))
    diff = after != before
    box = _box_of(diff)
    if box is None:
        return PaintResult(labels.revision, False)
    if obj is not None and obj.shape == "polygon":
        op = _polygon_op(obj, k, after)
        if op is None:
            return PaintResult(labels.revision, False)
        return PaintResult(labels.apply(op), True)
    encoded, item = _encoded(uuid, after, box)
    op = _mask_op(labels, obj, uuid, feature, k, encoded)
    others = Overwritten(labels, uuid)
    if overwrite:
        others.take(k, after & ~before)
    revision = labels.apply(Batch(ops=(op, *others.ops)) if others.ops else op)
    if encoded is not None:
        _last_painted[labels] = (encoded.rle, after)
    return PaintResult(revision, True, ((k, item), *others.patches))


def _encoded(
    uuid: str, mask: NDArray[np.bool_], box: tuple[int, int, int, int]
) -> tuple[Mask | None, MaskItem]:
    """``mask`` (a whole slice) encoded (None: empty), and the page's patch of its ``box``."""
    area = int(np.count_nonzero(mask))
    encoded = Mask.from_array(mask) if area else None
    crc = 0 if encoded is None else mask_crc(encoded)
    return encoded, MaskItem(uuid, box, _crop(mask, box).copy(), False, area, crc)


class Overwritten:
    """The other bitmask objects a paint of ``uuid`` takes pixels from (``overwrite``): the
    edits that give them up, and the page's patches of what changed."""

    def __init__(self, labels: Labels, uuid: str) -> None:
        self._labels = labels
        self._uuid = uuid
        self.ops: list[Operation] = []
        self.patches: list[tuple[int, MaskItem]] = []
        #: keyframes each object keeps so far (its last one emptied deletes it)
        self._left: dict[str, set[int]] = {}

    def take(self, z: int, gained: NDArray[np.bool_]) -> None:
        """The pixels ``gained`` on slice ``z`` (of the series' own) leave every other
        bitmask object there."""
        if not gained.any():
            return
        for obj in self._labels.objects(slice=z, plane="axial"):
            if obj.uuid == self._uuid or obj.shape != "bitmask":
                continue
            left = self._left.setdefault(obj.uuid, set(obj.keyframes))
            if z not in left:
                continue  # (the object went in this edit already)
            geometry = obj.keyframes[z].geometry
            assert isinstance(geometry, Mask)
            mask = geometry.to_array()
            lost = mask & gained
            box = _box_of(lost)
            if box is None:
                continue
            mask &= ~gained
            encoded, item = _encoded(obj.uuid, mask, box)
            if encoded is not None:
                self.ops.append(SetKeyframe(obj.uuid, z, {"mask": encoded.rle}, True))
            elif left == {z}:
                self.ops.append(DeleteObject(obj.uuid))
            else:
                self.ops.append(DeleteKeyframe(obj.uuid, z))
            if encoded is None:
                left.discard(z)
            self.patches.append((z, item))


def _cut(mask: NDArray[np.bool_], plane: str, k: int) -> NDArray[np.bool_]:
    """Row ``k`` (coronal) or column ``k`` (sagittal) of one slice's mask."""
    return mask[k, :] if plane == "coronal" else mask[:, k]


def _paint_cut(
    labels: Labels,
    series: Any,
    uuid: str,
    feature: str | None,
    obj: LabelObject | None,
    plane: str,
    k: int,
    strokes: tuple[Stroke, ...],
    overwrite: bool = False,
) -> PaintResult:
    """Paint a bitmask object where reformat ``k`` of ``plane`` cuts it: the strokes edit the
    cut (one row per slice), each slice they change gets its new mask, all in one batch
    (``overwrite``: with the pixels it gains taken from the other bitmask objects)."""
    width, height, _ = labels.document.plane_size(plane)
    _, rows, columns = labels.document.series.shape
    spacing = plane_spacing(series, plane)
    assert spacing is not None
    # the slices the strokes can reach: only their masks are read
    reach = max(s.radius for s in strokes) / spacing[0]
    ys = np.concatenate([s.points[:, 1] for s in strokes])
    z0 = max(0, math.floor(float(ys.min()) - reach))
    z1 = min(height, math.ceil(float(ys.max()) + reach) + 1)
    if z1 <= z0:
        return PaintResult(labels.revision, False)
    current: dict[int, NDArray[np.bool_]] = {}
    before = np.zeros((height, width), dtype=bool)
    for z, keyframe in obj.keyframes.items() if obj is not None else ():
        if z0 <= z < z1:
            geometry = keyframe.geometry
            assert isinstance(geometry, Mask)
            current[z] = geometry.to_array()
            before[z] = _cut(current[z], plane, k)
    needs_image = any(s.tool == "threshold" for s in strokes)
    values = plane_values(series, plane, k) if needs_image else None
    after = paint_mask(before, strokes, values, spacing)
    changed = np.flatnonzero((after != before).any(axis=1))
    if changed.size == 0:
        return PaintResult(labels.revision, False)
    ops: list[Operation] = []
    patches: list[tuple[int, MaskItem]] = []
    others = Overwritten(labels, uuid)
    kept: dict[str, dict[str, Any]] = {}
    left = set(obj.keyframes) if obj is not None else set()
    for z in (int(v) for v in changed):
        full = current[z].copy() if z in current else np.zeros((rows, columns), dtype=bool)
        if plane == "coronal":
            full[k, :] = after[z]
            box = (0, k, columns, k + 1)
        else:
            full[:, k] = after[z]
            box = (k, 0, k + 1, rows)
        if overwrite:  # the pixels the cut gained: where it lies in the slice
            gained = np.zeros_like(full)
            _cut(gained, plane, k)[:] = after[z] & ~before[z]
            others.take(z, gained)
        mask, item = _encoded(uuid, full, box)
        patches.append((z, item))
        if mask is not None:
            rle = mask.rle
            kept[str(z)] = {"manual": True, "mask": rle}
            left.add(z)
            if obj is not None:
                ops.append(SetKeyframe(uuid, z, {"mask": rle}, True))
        elif obj is not None and z in left:
            left.discard(z)
            ops.append(DeleteKeyframe(uuid, z))
    if obj is not None:
        # the stroke was drawn on what the reformat showed: the object's interpolated
        # keyframes become manual in the same edit, as they are (else the slices it made
        # manual would have the others recomputed, and rows the stroke never touched would
        # change after Enter)
        touched = {int(v) for v in changed}
        for z, keyframe in sorted(obj.keyframes.items()):
            if not keyframe.manual and z not in touched:
                geometry = keyframe.geometry
                assert isinstance(geometry, Mask)
                ops.append(SetKeyframe(uuid, z, {"mask": geometry.rle}, True))
    if obj is None:
        cls = labels.ontology.feature(feature or "")
        created = {"uuid": uuid, "feature": cls.id, "plane": "axial", "keyframes": kept}
        ops = [CreateObject(object=created)]
    elif not left:
        ops = [DeleteObject(uuid)]
    ops += others.ops
    revision = labels.apply(ops[0] if len(ops) == 1 else Batch(ops=tuple(ops)))
    return PaintResult(revision, True, (*patches, *others.patches))


def _mask_op(
    labels: Labels,
    obj: LabelObject | None,
    uuid: str,
    feature: str | None,
    k: int,
    after: Mask | None,
) -> Operation:
    """The edit that gives object ``uuid`` (None: a new one) the mask ``after`` on slice
    ``k`` (None: empty)."""
    if after is None:
        assert obj is not None  # a new object's mask only gains pixels
        return without_keyframe(obj, k)
    rle = after.rle
    if obj is None:
        assert feature is not None
        cls = labels.ontology.feature(feature)
        return CreateObject(
            object={
                "uuid": uuid,
                "feature": cls.id,
                "plane": "axial",
                "keyframes": {str(k): {"manual": True, "mask": rle}},
            }
        )
    return SetKeyframe(uuid, k, {"mask": rle}, True)


def _polygon_op(obj: LabelObject, k: int, after: NDArray[np.bool_]) -> Operation | None:
    polygons = mask_to_polygons(after, tolerance=POLYGON_TOLERANCE)
    if not polygons:
        return without_keyframe(obj, k) if k in obj.keyframes else None
    ring = mask_to_ring(polygons)
    return SetKeyframe(obj.uuid, k, {"points": ring.tolist()}, True)


# -- auto-segmentation -----------------------------------------------------------------------


def autosegment(labels: Labels, series: Any, uuid: str, k: int) -> int:
    """Tighten the polygon keyframe of ``uuid`` on slice ``k`` (of the object's plane) to the
    edges of the structure it encloses
    (:func:`~dicom_annot_widget.kernels.autoseg.refine_polygon` on the modality values of that
    slice, or of that reformat); one edit. Returns the new revision (the current one when the
    outline did not move).

    Raises
    ------
    LabelError
        Unknown object, not a polygon, no keyframe on ``k``, or a colour image.
    """
    with labels._lock:
        return _autosegment_locked(labels, series, uuid, k)


def _autosegment_locked(labels: Labels, series: Any, uuid: str, k: int) -> int:
    what = "autosegment"
    labels._check_writable()
    obj = labels.get(uuid)
    if obj.shape != "polygon":
        raise LabelError(
            f"{what}: object {obj.object_id} is a {obj.shape}; only polygons can be tightened"
        )
    keyframe = obj.keyframes.get(k)
    if keyframe is None:
        raise LabelError(f"{what}: object {obj.object_id} has no keyframe on slice {k}")
    geometry = keyframe.geometry
    assert isinstance(geometry, Polygon)
    # a reformat's image, as the page shows it (the whole volume is decoded for it once)
    image = np.asarray(
        series.get_slice(k) if obj.plane == "axial" else plane_image(series.array, obj.plane, k)
    )
    if image.ndim != 2:
        raise LabelError(f"{what}: needs a single-channel image; slice {k} has shape {image.shape}")
    points = np.asarray(geometry.points, dtype=np.float64)
    refined = refine_polygon(image, points)
    if refined.shape == points.shape and np.array_equal(refined, points):
        return labels.revision
    return labels.apply(SetKeyframe(uuid, k, {"points": refined.tolist()}, True))
