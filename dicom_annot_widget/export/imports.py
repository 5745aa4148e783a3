"""Segmentations back into labels: NIfTI label maps and DICOM SEG -> bitmask objects.

The inverse of :func:`~dicom_annot_widget.export.to_nifti` and
:func:`~dicom_annot_widget.export.to_dicom_seg`, for model predictions and round trips.

Rules
-----
* One bitmask object per label value (NIfTI) or per segment (SEG), drawn in the series' own
  slices (plane ``"axial"``). Values / segments without any voxel create nothing.
* Nothing is resampled: the image must lie on the series' voxel grid. Axis flips and
  permutations (another orientation of the same grid) are undone exactly; any other
  difference (spacing, origin, shape, rotation) is refused with both grids in the message.
* Everything is checked before anything is created, and all objects are created in one edit
  (one undo step).
* With ``source_name`` the objects are pending predictions of that model (accept / reject
  them with :meth:`Labels.accept` / :meth:`Labels.reject`); without it they are manual labels.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid as uuid_module
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DicomAnnotWarning, LabelError, caller_stacklevel
from ..io import Series
from ..labels import Labels, Mask, ObjectClass
from ..labels.document import check_confidence, check_model_source, check_name
from ..labels.operations import Batch, CreateObject
from ._legend import Legend
from ._series import check_series
from .masks import ExportError
from .nifti import nifti_affine
from .seg import class_segment_labels, label_key, object_segment_label

__all__ = ["GRID_TOLERANCE", "LabelImportError", "from_dicom_seg", "from_nifti"]

#: How far (in voxels) the image grid may lie from the series' grid, at any corner voxel.
GRID_TOLERANCE = 0.01

#: Fraction at or above which a FRACTIONAL SEG voxel counts as inside.
FRACTIONAL_THRESHOLD = 0.5

_SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
#: Label Map Segmentation Storage (DICOM 2024): a SEG of SegmentationType LABELMAP
_LABELMAP_SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.7"


class LabelImportError(LabelError):
    """A segmentation file cannot be imported as asked; the message says why."""


@dataclass
class _Planned:
    """One object to create: its class and its mask, slice by slice (only non-empty slices,
    ``(rows, columns)`` booleans: memory follows the labelled slices, not the volume)."""

    cls: ObjectClass
    slices: dict[int, npt.NDArray[np.bool_]] = field(default_factory=dict)
    #: the object's name (a SEG segment's TrackingID other than "object <n>"), if any
    name: str | None = None


# ---------------------------------------------------------------------------- shared


def _check_target(labels: Any, series: Any) -> Series:
    try:
        return check_series(labels, series)
    except ExportError as exc:
        raise LabelImportError(str(exc)) from None


def _bitmask_class(labels: Labels, key: Any, where: str) -> ObjectClass:
    if isinstance(key, ObjectClass):
        key = key.id
    if not isinstance(key, str):
        raise LabelImportError(
            f"{where}: expected an object class id, name or hotkey (str), got "
            f"{type(key).__name__} {key!r}"
        )
    cls = labels.ontology.find_feature(key)
    if cls is None:
        known = ", ".join(repr(c.id) for c in labels.ontology.objects) or "none"
        raise LabelImportError(f"{where}: unknown object class {key!r} (known: {known})")
    if cls.shape != "bitmask":
        raise LabelImportError(
            f"{where}: {cls.name!r} is a {cls.shape} class; segmentations import as bitmask "
            "objects, so map to a bitmask class"
        )
    return cls


def _check_source(source_name: Any, confidence: Any) -> tuple[str | None, float | None]:
    """The model name and confidence of pending predictions, checked before any work."""
    try:
        if source_name is not None:
            source_name = check_model_source(source_name, "source_name")
        if confidence is not None:
            confidence = check_confidence(confidence, "confidence")
    except LabelError as exc:
        raise LabelImportError(str(exc)) from None
    return source_name, confidence


def _create(
    labels: Labels,
    planned: list[_Planned],
    source_name: str | None,
    confidence: float | None,
    label: str,
) -> list[str]:
    """All planned objects as one edit (a Batch of CreateObject); returns their uuids."""
    ops: list[CreateObject] = []
    uuids: list[str] = []
    for item in planned:
        keyframes: dict[str, Any] = {}
        for k in sorted(item.slices):
            if item.slices[k].any():
                keyframes[str(k)] = {"manual": True, **Mask.from_array(item.slices[k]).to_json()}
        if not keyframes:
            continue
        uid = str(uuid_module.uuid4())
        data: dict[str, Any] = {
            "uuid": uid,
            "feature": item.cls.id,
            "plane": "axial",
            "keyframes": keyframes,
        }
        if source_name is not None:
            data["source"] = source_name
        if confidence is not None:
            data["confidence"] = confidence
        if item.name is not None:
            data["name"] = item.name
        ops.append(CreateObject(object=data))
        uuids.append(uid)
    if ops:
        labels.apply(Batch(tuple(ops), label=label))
    return uuids


def _grid_text(affine: npt.NDArray[Any], shape: Sequence[int]) -> str:
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    origin = affine[:3, 3]
    return (
        f"shape {tuple(int(s) for s in shape)}, spacing "
        f"({', '.join(f'{v:.4g}' for v in spacing)}) mm, origin "
        f"({', '.join(f'{v:.4g}' for v in origin)}) mm"
    )


# ---------------------------------------------------------------------------- NIfTI


def _load_nifti(source: Any) -> Any:
    import nibabel as nib
    from nibabel.spatialimages import SpatialImage

    if isinstance(source, SpatialImage):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"source: expected a NIfTI file path or a nibabel image, got {type(source).__name__}"
        )
    path = os.fspath(source)
    try:
        return nib.load(path)
    except FileNotFoundError:
        raise LabelImportError(f"source: {path!r} does not exist") from None
    except Exception as exc:
        raise LabelImportError(
            f"source: cannot read {path!r} as NIfTI ({type(exc).__name__}: {exc})"
        ) from None


def _slice_by_slice(
    series: Series,
    target: npt.NDArray[np.float64],
    moved: npt.NDArray[np.float64],
    corners: npt.NDArray[np.float64],
    allow: bool,
) -> bool:
    """An image off the series' grid along the slices only, on a series whose slices are not
    evenly spaced (QA 24b D14: SimpleITK's label map of a series with a missing slice, one
    label slice per image spaced by the mean step, was refused as off-grid, the gap not
    named): True to place its slices one by one (``allow``, with a warning), else an error
    naming the gap and the way. False when the in-plane grid or the first slice differ, or
    the series' slices are evenly spaced (the usual refusal then)."""
    first = corners[:, corners[2] == 0]
    in_plane = np.abs((np.linalg.inv(target) @ moved @ first)[:3] - first[:3]).max()
    if not np.isfinite(in_plane) or in_plane > GRID_TOLERANCE:
        return False
    from ._series import check_slice_positions

    try:
        check_slice_positions(series, allow=False, what="a label map")
    except ExportError as exc:
        facts = str(exc).split(". ")[0]
    else:
        return False
    if not allow:
        raise LabelImportError(
            f"source: its slices are evenly spaced, the series' are not ({facts}); if it has "
            "one slice per image of the series (as SimpleITK writes one for such a series), "
            "pass allow_irregular_slices=True to place its slice k on the series' slice k"
        )
    warnings.warn(
        f"from_nifti: the series' slices are not evenly spaced ({facts}); the label map's "
        "slice k was placed on the series' slice k (allow_irregular_slices=True)",
        DicomAnnotWarning,
        stacklevel=caller_stacklevel(),
    )
    return True


def _axes_onto(affine: npt.NDArray[np.float64], target: npt.NDArray[np.float64]) -> Any:
    """The flips and permutation (a nibabel orientation transform) that take the voxel axes
    of ``affine`` onto those of ``target``, read from ``inv(target) @ affine``, or None when
    its axes are not a permutation of the target's. Each affine's own orientation
    (``io_orientation``) is not used: for an oblique series two axes can tie, and two
    practically equal affines then got different axes (QA 24b D4: a label map on the grid
    of a double-oblique MR was refused, "shape differs", with equal shapes)."""
    try:
        voxels = (np.linalg.inv(target) @ affine)[:3, :3]
    except np.linalg.LinAlgError:
        return None
    axes = np.argmax(np.abs(voxels), axis=0)
    if len(set(axes.tolist())) != 3:
        return None
    signs = [1.0 if voxels[axes[i], i] >= 0 else -1.0 for i in range(3)]
    return np.array([[float(axes[i]), signs[i]] for i in range(3)])


def _on_series_grid(image: Any, series: Series, irregular: bool = False) -> npt.NDArray[Any]:
    """The image's data as ``(slices, rows, columns)`` of the series, with flips and
    permutations undone; anything else that differs is refused (``irregular``: see
    :func:`from_nifti`'s ``allow_irregular_slices``)."""
    from nibabel.orientations import apply_orientation, inv_ornt_aff, io_orientation, ornt_transform

    shape = tuple(int(s) for s in image.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) != 3:
        raise LabelImportError(
            f"source: shape {tuple(image.shape)} is not a 3D label map (one volume)"
        )
    target = nifti_affine(series)
    n_slices, rows, columns = series.shape[:3]
    target_shape = (columns, rows, n_slices)
    affine = np.asarray(image.affine, dtype=np.float64)
    src = io_orientation(affine)
    if np.isnan(src).any():
        raise LabelImportError(f"source: its affine is degenerate:\n{affine}")
    transform = _axes_onto(affine, target)
    if transform is None:  # far from the grid: the checks below say how
        transform = ornt_transform(src, io_orientation(target))
    moved = affine @ inv_ornt_aff(transform, shape)
    probe = apply_orientation(np.broadcast_to(np.zeros((), np.uint8), shape), transform)
    moved_shape = probe.shape
    grids = (
        f"the image: {_grid_text(affine, shape)}; the series (NIfTI RAS, voxel order column, "
        f"row, slice): {_grid_text(target, target_shape)}"
    )
    if moved_shape != target_shape:
        raise LabelImportError(
            f"source: not on the series' voxel grid (shape differs; nothing is resampled): {grids}"
        )
    corners = np.array(
        [[i, j, k, 1.0] for i in (0, columns - 1) for j in (0, rows - 1) for k in (0, n_slices - 1)]
    ).T
    off = np.abs((np.linalg.inv(target) @ moved @ corners)[:3] - corners[:3]).max()
    if (not np.isfinite(off) or off > GRID_TOLERANCE) and _slice_by_slice(
        series, target, moved, corners, irregular
    ):
        off = 0.0
    if not np.isfinite(off) or off > GRID_TOLERANCE:
        raise LabelImportError(
            f"source: not on the series' voxel grid (a corner voxel lies {off:.3g} voxels away; "
            f"the tolerance is {GRID_TOLERANCE}; nothing is resampled): {grids}"
        )
    data = np.asanyarray(image.dataobj).reshape(shape)
    data = apply_orientation(data, transform)
    # one contiguous copy in (slice, row, column) order: slices are then cheap to read
    return np.ascontiguousarray(np.asarray(data).transpose(2, 1, 0))


def _legend_entries(legend: Any) -> list[Any]:
    """The ``entries`` of a legend's dict, its JSON text or a JSON file path."""
    if isinstance(legend, os.PathLike) or (
        isinstance(legend, str) and not legend.lstrip().startswith("{")
    ):
        try:
            with open(legend, encoding="utf-8") as handle:
                legend = handle.read()
        except OSError as exc:
            raise LabelImportError(f"legend: cannot read {os.fspath(legend)!r} ({exc})") from None
    if isinstance(legend, (str, bytes)):
        try:
            legend = json.loads(legend)
        except ValueError as exc:
            raise LabelImportError(f"legend: not valid JSON ({exc})") from None
    entries = legend.get("entries") if isinstance(legend, Mapping) else None
    if not isinstance(entries, list):
        raise LabelImportError(
            "legend: expected the legend to_nifti returned (a Legend, legend.to_dict(), its "
            "JSON text or a path to it), with an 'entries' list"
        )
    return entries


def _legend_classes(legend: Any) -> dict[int, str]:
    """``value -> feature`` from a Legend, its dict, its JSON text or a JSON file path."""
    if isinstance(legend, Legend):
        return {e.value: e.feature for e in legend}
    out: dict[int, str] = {}
    for i, entry in enumerate(_legend_entries(legend)):
        value = entry.get("value") if isinstance(entry, Mapping) else None
        feature = entry.get("feature") if isinstance(entry, Mapping) else None
        if isinstance(value, bool) or not isinstance(value, int) or not isinstance(feature, str):
            raise LabelImportError(f"legend.entries[{i}]: needs an integer 'value' and a 'feature'")
        out[value] = feature
    return out


def _legend_names(legend: Any) -> dict[int, str]:
    """``value -> name`` of the values a legend (``by="object"``) gives one named object;
    names that are not valid object names are left out."""
    pairs: list[tuple[Any, Any]]
    if isinstance(legend, Legend):
        pairs = [(e.value, e.object_names) for e in legend]
    else:
        pairs = [
            (e.get("value"), e.get("object_names"))
            for e in _legend_entries(legend)
            if isinstance(e, Mapping)
        ]
    out: dict[int, str] = {}
    for value, names in pairs:
        if isinstance(value, int) and isinstance(names, (list, tuple)) and len(names) == 1:
            try:
                name = check_name(names[0], "name")
            except LabelError:
                continue
            if name is not None:
                out[value] = name
    return out


def _check_legend_shapes(labels: Labels, legend: Mapping[int, str]) -> None:
    """A legend of an export with polygons or boxes cannot be imported as it is: every value
    must come back as a bitmask object of its own class. Says which values and what to do."""
    wrong: dict[int, ObjectClass] = {}
    for value, feature in sorted(legend.items()):
        cls = labels.ontology.find_feature(feature)
        if cls is not None and cls.shape != "bitmask":
            wrong[value] = cls
    if not wrong:
        return
    (value, cls), *others = wrong.items()
    also = "; ".join(f"legend[{v}]: {c.name!r}, a {c.shape} class" for v, c in others)
    values = ", ".join(str(v) for v in wrong)
    raise LabelImportError(
        f"legend[{value}]: {cls.name!r} is a {cls.shape} class{f' ({also})' if also else ''}: "
        "an import creates bitmask objects, and they cannot join a polygon or box class, so "
        f"value{'s' if len(wrong) > 1 else ''} {values} cannot come back with legend=. Import "
        "with classes={value: bitmask class, ...} instead, leaving "
        f"{'those values' if len(wrong) > 1 else 'that value'} out with "
        "ignore_unlisted=True (or mapping it to a bitmask class); or, for a round trip, export "
        "only the bitmask objects (to_nifti(..., objects=[...]))"
    )


def _value_classes(
    labels: Labels, classes: Any, legend: Any, present: list[int], ignore_unlisted: bool
) -> dict[int, ObjectClass]:
    if classes is not None and legend is not None:
        raise LabelImportError("give either classes= or legend=, not both")
    given: Mapping[Any, Any] | None
    if legend is not None:
        given = _legend_classes(legend)
        where = "legend"
    else:
        given = classes
        where = "classes"
    if given is None:
        bitmask = [c for c in labels.ontology.objects if c.shape == "bitmask"]
        if present and present == list(range(1, len(bitmask) + 1)):
            return {v: c for v, c in zip(present, bitmask, strict=True)}
        names = ", ".join(repr(c.name) for c in bitmask) or "none"
        raise LabelImportError(
            f"source: cannot tell which class each label value is: the image has values "
            f"{present or 'none (only background)'} and the ontology has {len(bitmask)} bitmask "
            f"classes ({names}); values 1..n are matched to them in order only when they are "
            "exactly 1..n. Give classes={value: class, ...} (or legend= the legend of to_nifti)"
        )
    if not isinstance(given, Mapping):
        raise TypeError(f"classes: expected a mapping value -> class, got {type(given).__name__}")
    if where == "legend":
        _check_legend_shapes(labels, given)
    out: dict[int, ObjectClass] = {}
    for key, cls in given.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise LabelImportError(f"{where}: label values must be integers, got {key!r}")
        if int(key) == 0:
            raise LabelImportError(f"{where}: 0 is the background, it cannot be a class")
        out[int(key)] = _bitmask_class(labels, cls, f"{where}[{int(key)}]")
    unlisted = [v for v in present if v not in out]
    if unlisted and not ignore_unlisted:
        raise LabelImportError(
            f"source: label value{'s' if len(unlisted) > 1 else ''} {unlisted} "
            f"{'are' if len(unlisted) > 1 else 'is'} not in {where} (listed: {sorted(out)}); "
            "map them too, or pass ignore_unlisted=True to leave them out"
        )
    return out


def _values_in(plane: npt.NDArray[Any], k: int) -> list[int]:
    """The distinct values of label slice ``k`` (whole numbers, else an error)."""
    if plane.dtype.kind == "f":
        what = ""
        if np.isnan(plane).any():
            what = "NaN values (not a number: replace them with 0 or a label value first)"
        elif not np.isfinite(plane).all():
            what = "infinite values (replace them with 0 or a label value first)"
        elif not np.array_equal(plane, np.round(plane)):
            what = "fractional values (a probability map? threshold it first)"
        if what:
            raise LabelImportError(
                f"source: the label values must be whole numbers; slice {k} has {what}"
            )
    kind, size = plane.dtype.kind, plane.dtype.itemsize
    if size <= 2 and (kind in "ub" or (kind == "i" and plane.min() >= 0)):
        # a histogram is much faster than sorting
        return [int(v) for v in np.flatnonzero(np.bincount(plane.ravel()))]
    return [int(v) for v in np.unique(plane)]


def from_nifti(
    labels: Labels,
    series: Series,
    source: Any,
    *,
    classes: Mapping[int, str] | None = None,
    legend: Any = None,
    source_name: str | None = None,
    confidence: float | None = None,
    ignore_unlisted: bool = False,
    allow_irregular_slices: bool = False,
) -> list[str]:
    """Import a NIfTI label map as bitmask objects (one per label value), in one edit.

    Parameters
    ----------
    labels
        The labels of ``series``; they receive the objects.
    series
        The opened series the label map was made on.
    source
        A ``.nii`` / ``.nii.gz`` path or a nibabel image. It must lie on the series' voxel grid
        (any orientation of it: flips and axis permutations are undone; nothing is resampled).
    classes
        ``{label value: object class}`` (class id, name or hotkey of a bitmask class).
    legend
        Instead of ``classes``: the legend :func:`to_nifti` wrote (a :class:`Legend`, its
        ``to_dict()``, its JSON text or the path of the JSON file). With a ``by="object"``
        legend every object comes back as its own object.
    source_name
        Model name: the objects become pending predictions (dashed, to accept or reject).
        Without it they are manual labels.
    confidence
        Confidence of every object, in [0, 1].
    ignore_unlisted
        Leave out label values that ``classes`` / ``legend`` does not list (else an error).
    allow_irregular_slices
        For a series whose slices are not evenly spaced (a missing slice, uneven spacing),
        which no NIfTI grid can follow: a label map with the series' in-plane grid, its first
        slice and as many slices (as SimpleITK writes one for such a series: one label slice
        per image, spaced by the mean step) is placed slice by slice, its slice k on the
        series' slice k, with a warning. Default: refused, the message naming the gap.

    Returns
    -------
    list of str
        Uuids of the created objects, in label value order (values without voxels create
        nothing; an image with only background returns ``[]``).

    Raises
    ------
    LabelImportError
        The image is not on the series' grid (both grids are named), values are not whole
        numbers, a value is not mapped, a class is unknown or not a bitmask class, or, without
        ``classes`` / ``legend``, the values are not exactly 1..n for the ontology's n bitmask
        classes. Nothing is created.
    """
    series = _check_target(labels, series)
    source_name, confidence = _check_source(source_name, confidence)
    if classes is not None and not isinstance(classes, Mapping):
        raise TypeError(f"classes: expected a mapping value -> class, got {type(classes).__name__}")
    if not isinstance(allow_irregular_slices, bool):
        raise TypeError(
            "allow_irregular_slices: expected True or False, got "
            f"{type(allow_irregular_slices).__name__}"
        )
    image = _load_nifti(source)
    data = _on_series_grid(image, series, allow_irregular_slices)
    if data.dtype.kind not in "iubf":
        raise LabelImportError(f"source: data type {data.dtype} is not a label map")
    by_slice = [_values_in(data[k], k) for k in range(data.shape[0])]
    present = sorted({v for values in by_slice for v in values} - {0})
    negative = [v for v in present if v < 0]
    if negative and not ignore_unlisted:
        # (a label map's "ignore" voxels are often -1: left out like any value not listed,
        # QA 24b D13: refused whatever the arguments)
        raise LabelImportError(
            f"source: negative label values {negative} (no class has one); pass "
            "ignore_unlisted=True to leave them out (e.g. a label map's 'ignore' value -1)"
        )
    present = [v for v in present if v > 0]
    mapping = _value_classes(labels, classes, legend, present, ignore_unlisted)
    names = _legend_names(legend) if legend is not None else {}
    planned = {
        value: _Planned(cls, name=names.get(value))
        for value, cls in sorted(mapping.items())
        if value in present
    }
    for k, values in enumerate(by_slice):  # one slice at a time: no full-volume mask per value
        plane = data[k]
        for value in values:
            item = planned.get(value)
            if item is not None:
                item.slices[k] = plane == value
    return _create(labels, list(planned.values()), source_name, confidence, "import NIfTI")


# ---------------------------------------------------------------------------- DICOM SEG


def _sop_class_name(uid: str) -> str:
    """``"1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)"``: the UID with pydicom's name."""
    from pydicom.uid import UID

    name = UID(uid).name
    return uid if not name or name == uid else f"{uid} ({name})"


def _sop_class_text(ds: Any) -> str:
    """Why the dataset is not a SEG, naming its SOP class (or saying it has none)."""
    wanted = f"Segmentation Storage ({_SEG_SOP_CLASS})"
    uid = str(ds.get("SOPClassUID") or "").strip()
    if uid:
        return f"its SOPClassUID is {_sop_class_name(uid)}, not {wanted}"
    meta = getattr(ds, "file_meta", None)
    media = str(meta.get("MediaStorageSOPClassUID") or "").strip() if meta is not None else ""
    if media:
        what = "empty" if "SOPClassUID" in ds else "missing"
        return (
            f"its SOPClassUID is {what} and the file meta's MediaStorageSOPClassUID is "
            f"{_sop_class_name(media)}, not {wanted}"
        )
    return f"it has no SOPClassUID (nor MediaStorageSOPClassUID); a SEG's is {wanted}"


def _load_seg(source: Any) -> Any:
    import highdicom as hd
    import pydicom

    if isinstance(source, hd.seg.Segmentation):
        return source
    if isinstance(source, pydicom.Dataset):
        ds = source
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            ds = pydicom.dcmread(path)
        except FileNotFoundError:
            raise LabelImportError(f"source: {path!r} does not exist") from None
        except Exception as exc:
            raise LabelImportError(
                f"source: cannot read {path!r} as DICOM ({type(exc).__name__}: {exc})"
            ) from None
    else:
        raise TypeError(
            f"source: expected a DICOM SEG file path or a pydicom Dataset, got "
            f"{type(source).__name__}"
        )
    if ds.get("SOPClassUID") == _LABELMAP_SEG_SOP_CLASS:
        # (QA 24b D8: said "not a DICOM SEG" while open_series sent the user here)
        raise LabelImportError(
            "source: a Label Map Segmentation (DICOM 2024, SegmentationType LABELMAP) is not "
            "supported yet; only BINARY and FRACTIONAL DICOM SEG (Segmentation Storage)"
        )
    if ds.get("SOPClassUID") != _SEG_SOP_CLASS:
        raise LabelImportError(f"source: not a DICOM SEG: {_sop_class_text(ds)}")
    try:
        return hd.seg.Segmentation.from_dataset(ds, copy=False)
    except Exception as exc:
        raise LabelImportError(
            f"source: not a valid DICOM SEG ({type(exc).__name__}: {exc})"
        ) from None


def _frame_slices(seg: Any, series: Series) -> tuple[list[int], list[int]]:
    """Segment number and series slice index of every frame of the SEG."""
    n_slices, rows, columns = series.shape[:3]
    seg_for = str(seg.get("FrameOfReferenceUID", ""))
    ref_series = [str(s.SeriesInstanceUID) for s in seg.get("ReferencedSeriesSequence", [])]
    if (int(seg.Rows), int(seg.Columns)) != (rows, columns):
        size = (
            f"its frames of {int(seg.Rows)} x {int(seg.Columns)} pixels do not fit the "
            f"series' {rows} x {columns} slices (nothing is resampled)"
        )
        if series.series_instance_uid not in ref_series or seg_for != (
            series.frame_of_reference_uid or ""
        ):
            raise LabelImportError(
                f"source: this SEG belongs to another series: it references series "
                f"{', '.join(ref_series) or '(none)'} in frame of reference "
                f"{seg_for or '(none)'}, the series is {series.series_instance_uid or '(none)'} "
                f"in frame of reference {series.frame_of_reference_uid or '(none)'}; and {size}"
            )
        raise LabelImportError(f"source: {size}")
    uids = series.sop_instance_uids
    # slices of a multi-frame source share one UID: those are placed by position
    counts = Counter(uids)
    by_uid = {uid: k for k, uid in enumerate(uids) if uid and counts[uid] == 1}
    shared = seg.get("SharedFunctionalGroupsSequence", [None])[0]
    frames = seg.PerFrameFunctionalGroupsSequence
    numbers: list[int] = []
    refs: list[str | None] = []
    positions: list[Any] = []
    orientations: list[Any] = []
    spacings: list[Any] = []

    def group(item: Any, name: str) -> Any:
        for where in (item, shared):
            if where is not None and name in where and len(where[name].value):
                return where[name].value[0]
        return None

    for item in frames:
        ident = group(item, "SegmentIdentificationSequence")
        if ident is None:
            raise LabelImportError("source: a frame has no SegmentIdentificationSequence")
        numbers.append(int(ident.ReferencedSegmentNumber))
        ref = None
        derivation = group(item, "DerivationImageSequence")
        if derivation is not None and derivation.get("SourceImageSequence"):
            ref = str(derivation.SourceImageSequence[0].ReferencedSOPInstanceUID)
        refs.append(ref)
        pos = group(item, "PlanePositionSequence")
        positions.append(None if pos is None else [float(v) for v in pos.ImagePositionPatient])
        ori = group(item, "PlaneOrientationSequence")
        orientations.append(
            None if ori is None else [float(v) for v in ori.ImageOrientationPatient]
        )
        measures = group(item, "PixelMeasuresSequence")
        spacings.append(
            None
            if measures is None or "PixelSpacing" not in measures
            else [float(v) for v in measures.PixelSpacing]
        )
    if refs and all(r is not None and r in by_uid for r in refs):
        return numbers, [by_uid[r] for r in refs if r is not None]

    series_for = series.frame_of_reference_uid
    if not series_for or seg_for != series_for:
        raise LabelImportError(
            f"source: this SEG belongs to another series: it references series "
            f"{', '.join(ref_series) or '(none)'} in frame of reference {seg_for or '(none)'}, "
            f"the series is {series.series_instance_uid or '(none)'} in frame of reference "
            f"{series_for or '(none)'}, and its frames reference none of the series' images"
        )
    # Same frame of reference, other images: place frames by position, in-plane exactly.
    inverse = np.linalg.inv(series.affine)
    # each slice where its header puts it (beyond a missing slice the affine is off by the gap)
    origins = np.zeros((n_slices, 3))
    origins[:, 2] = np.arange(n_slices)
    for k, where in enumerate(series.slice_positions or ()):
        if where is not None:
            origins[k] = (inverse @ [*where, 1.0])[:3]
    spacing_row, spacing_col = (float(v) for v in np.linalg.norm(series.affine[:3, 1::-1], axis=0))
    slices: list[int] = []
    for i, pos in enumerate(positions):
        if pos is None:
            raise LabelImportError(
                f"source: frame {i + 1} references no image of the series and has no "
                "ImagePositionPatient, so it cannot be placed"
            )
        ori = orientations[i]
        if ori is not None:
            wanted = np.concatenate([series.affine[:3, 0], series.affine[:3, 1]])
            wanted = wanted / np.repeat(np.linalg.norm(wanted.reshape(2, 3), axis=1), 3)
            if np.abs(np.asarray(ori) - wanted).max() > 1e-3:
                raise LabelImportError(
                    f"source: frame {i + 1} has ImageOrientationPatient {ori}, the series "
                    f"{[round(float(v), 6) for v in wanted]} (nothing is resampled)"
                )
        sp = spacings[i]
        if sp is not None and not np.allclose(sp, [spacing_row, spacing_col], rtol=1e-3):
            raise LabelImportError(
                f"source: frame {i + 1} has PixelSpacing {sp}, the series "
                f"[{spacing_row:.6g}, {spacing_col:.6g}] (nothing is resampled)"
            )
        voxel = (inverse @ [*pos, 1.0])[:3]
        k = int(np.argmin(np.abs(origins[:, 2] - voxel[2])))
        offset = voxel - origins[k]  # from that slice's own position (a gap shifts the rest)
        if np.abs(offset[:2]).max() > GRID_TOLERANCE or abs(offset[2]) > 0.5:
            # its image is not in the series, while others are: a file left out when the
            # series was opened (QA 24b D11: the message did not say so)
            missing = (
                f"; it references image {refs[i]}, which is not in the series, while "
                f"{sum(r in by_uid for r in refs)} of its frames reference the series' images "
                "(a file of the series skipped when it was opened, or missing?)"
                if refs[i] is not None and refs[i] not in by_uid and any(r in by_uid for r in refs)
                else ""
            )
            raise LabelImportError(
                f"source: frame {i + 1} at ImagePositionPatient {pos} is on no slice of the "
                f"series: the nearest is slice {k}, off by "
                f"{[round(float(v), 3) for v in offset]} (columns, rows, slices); a frame must "
                f"lie on a slice, within half a slice spacing along its normal{missing}"
            )
        slices.append(k)
    seen: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(numbers, slices, strict=True)):
        if key in seen:
            raise LabelImportError(
                f"source: frames {seen[key] + 1} and {i + 1} of segment {key[0]} both fall on "
                f"slice {key[1]}: the SEG's slices are not the series' slices (nothing is "
                "resampled)"
            )
        seen[key] = i
    return numbers, slices


def _norm(text: str) -> str:
    return label_key(text)


def _classes_of_label(labels: Labels, text: str) -> list[ObjectClass]:
    """The object classes a segment label names, best rule first; several only when the
    label cannot tell them apart.

    1. The label :func:`to_dicom_seg` writes for a class (``by="class"``: the class name as
       a valid LO value, or the class id when names clash), exactly.
    2. ``"<that label, cut> <object_id>"`` (``by="object"``), exactly.
    3. Labels written by other tools: a class id, then a class name, then either followed
       by a number (case-insensitive, whitespace runs as one space).
    """
    classes = list(labels.ontology.objects)
    by_class, _ = class_segment_labels(labels.ontology)
    found = [c for c in classes if by_class[c.id] == text]
    if found:
        return found
    match = re.fullmatch(r"(.*\S) (\d+)", text)
    if match:
        number = int(match.group(2))
        found = [c for c in classes if object_segment_label(by_class[c.id], number) == text]
        if found:
            return found
    key = _norm(text)
    stripped = _norm(re.sub(r"\s+\d+$", "", text))
    for wanted, attribute in ((key, "id"), (key, "name"), (stripped, "id"), (stripped, "name")):
        found = [c for c in classes if _norm(getattr(c, attribute)) == wanted]
        if found:
            return found
    return []


def _segment_classes(
    labels: Labels, seg: Any, classes: Any, ignore_unlisted: bool
) -> dict[int, ObjectClass]:
    numbers = [int(n) for n in seg.get_segment_numbers()]
    seg_labels = {n: str(seg.get_segment_description(n).segment_label) for n in numbers}
    out: dict[int, ObjectClass] = {}
    if classes is not None:
        if not isinstance(classes, Mapping):
            raise TypeError(
                f"classes: expected a mapping segment -> class, got {type(classes).__name__}"
            )
        for key, cls in classes.items():
            if isinstance(key, str):
                found = [n for n, text in seg_labels.items() if _norm(text) == _norm(key)]
                if not found:
                    raise LabelImportError(
                        f"classes: no segment is labelled {key!r} (segments: "
                        + ", ".join(f"{n} {t!r}" for n, t in seg_labels.items())
                        + ")"
                    )
            elif isinstance(key, (int, np.integer)) and not isinstance(key, bool):
                if int(key) not in seg_labels:
                    raise LabelImportError(
                        f"classes: the SEG has no segment {int(key)} (segments: {numbers})"
                    )
                found = [int(key)]
            else:
                raise LabelImportError(
                    f"classes: keys are segment numbers or segment labels, got {key!r}"
                )
            target = _bitmask_class(labels, cls, f"classes[{key!r}]")
            for n in found:
                out[n] = target
        unlisted = [n for n in numbers if n not in out]
        if unlisted and not ignore_unlisted:
            raise LabelImportError(
                "source: segments not in classes: "
                + ", ".join(f"{n} {seg_labels[n]!r}" for n in unlisted)
                + "; map them too, or pass ignore_unlisted=True to leave them out"
            )
        return out
    missing: list[int] = []
    for n, text in seg_labels.items():
        matching = _classes_of_label(labels, text)
        if len(matching) > 1:
            raise LabelImportError(
                f"source: segment {n} {text!r} matches {len(matching)} object classes ("
                + ", ".join(repr(c.name) for c in matching)
                + "): its label cannot tell them apart; give classes={segment number or "
                "label: class}"
            )
        if not matching:
            missing.append(n)
            continue
        if matching[0].shape != "bitmask":
            if ignore_unlisted:
                continue  # (e.g. this package's by-class SEG of a polygon class)
            raise LabelImportError(
                f"segment {n} {text!r}: {matching[0].name!r} is a {matching[0].shape} class; "
                "segmentations import as bitmask objects: map it to a bitmask class with "
                f"classes={{{n}: ...}} (and the other segments), or pass ignore_unlisted=True "
                "to leave it out"
            )
        out[n] = _bitmask_class(labels, matching[0], f"segment {n} {text!r}")
    if missing and not ignore_unlisted:
        known = ", ".join(repr(c.name) for c in labels.ontology.objects if c.shape == "bitmask")
        raise LabelImportError(
            "source: no object class matches segment "
            + ", ".join(f"{n} {seg_labels[n]!r}" for n in missing)
            + f" (bitmask classes: {known or 'none'}); give classes={{segment number or "
            "label: class}}"
        )
    return out


def _segment_name(seg: Any, number: int) -> str | None:
    """A segment's TrackingID as an object name (what ``to_dicom_seg(by="object")`` writes
    for a named object), or ``None``: no TrackingID, one of the ``"object <n>"`` form written
    for unnamed objects, or one that is not a valid name."""
    tracking = seg.get_segment_description(number).get("TrackingID")
    if tracking is None:
        return None
    text = str(tracking)
    if re.fullmatch(r"object \d+", text):
        return None
    try:
        return check_name(text, "TrackingID")
    except LabelError:
        return None


def from_dicom_seg(
    labels: Labels,
    series: Series,
    source: Any,
    *,
    classes: Mapping[int | str, str] | None = None,
    source_name: str | None = None,
    confidence: float | None = None,
    ignore_unlisted: bool = False,
) -> list[str]:
    """Import a DICOM Segmentation as bitmask objects (one per segment), in one edit.

    Parameters
    ----------
    labels
        The labels of ``series``; they receive the objects.
    series
        The opened DICOM series the SEG was made on.
    source
        A SEG file path, a pydicom Dataset or a highdicom Segmentation (BINARY or
        FRACTIONAL; a FRACTIONAL voxel is inside when its fraction is >= 0.5).
    classes
        ``{segment number or segment label: object class}`` (class id, name or hotkey of a
        bitmask class). Default: a segment whose label equals a class id or name
        (case-insensitive; a trailing object number as in ``"Liver 3"`` is allowed).
    source_name, confidence
        As in :func:`from_nifti`: with ``source_name`` the objects are pending predictions.
    ignore_unlisted
        Leave out segments that match no class (else an error listing them).

    Returns
    -------
    list of str
        Uuids of the created objects, in segment number order (segments without frames
        create nothing).

    Raises
    ------
    LabelImportError
        The SEG belongs to another series and frame of reference (both UIDs are named), its
        frames do not lie on the series' slices, a segment matches no class, or a class is
        unknown or not a bitmask class. Nothing is created.

    Notes
    -----
    Frames are placed on the series' slices by the referenced SOP Instance UID when every
    frame references an image of the series, else (same frame of reference) by
    ImagePositionPatient: in-plane it must match the series' grid, along the slice normal
    within half a slice.
    """
    series = _check_target(labels, series)
    source_name, confidence = _check_source(source_name, confidence)
    seg = _load_seg(source)
    kind = str(seg.get("SegmentationType", ""))
    if kind not in ("BINARY", "FRACTIONAL"):
        raise LabelImportError(f"source: SegmentationType {kind!r} is not supported")
    mapping = _segment_classes(labels, seg, classes, ignore_unlisted)
    numbers, slices = _frame_slices(seg, series)
    pixels = np.asarray(seg.pixel_array)
    n_frames = len(numbers)
    pixels = pixels.reshape(n_frames, int(seg.Rows), int(seg.Columns))
    if kind == "FRACTIONAL":
        # fraction = value / maximum >= threshold, compared in integers: no float copies of
        # the frames (QA 24b D9: two float32 copies, ~10x the frames' bytes, killed kernels)
        maximum = float(seg.get("MaximumFractionalValue", 255) or 255)
        inside = pixels >= math.ceil(FRACTIONAL_THRESHOLD * maximum - 1e-9)
    else:
        inside = pixels != 0
    del pixels
    planned = {n: _Planned(mapping[n], name=_segment_name(seg, n)) for n in sorted(mapping)}
    for i, (n, k) in enumerate(zip(numbers, slices, strict=True)):
        item = planned.get(n)
        if item is not None:
            before = item.slices.get(k)
            item.slices[k] = inside[i] if before is None else before | inside[i]
    return _create(labels, list(planned.values()), source_name, confidence, "import DICOM SEG")
