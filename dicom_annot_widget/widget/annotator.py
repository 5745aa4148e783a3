"""The notebook widget: a DICOM viewer (and, in later steps, label editor)."""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib.resources import files
from typing import Any

import anywidget
import numpy as np
import orjson
import traitlets
from pydicom.dataset import Dataset

from ..errors import (
    DicomAnnotWarning,
    DicomLoadError,
    LabelError,
    ProtocolError,
    WidgetValueError,
    describe,
)
from ..export import from_dicom_seg, from_nifti, to_dicom_seg, to_nifti
from ..io import Series, Study, open_series
from ..io._scan import collect_paths
from ..io.loader import _ACCEPTED_KINDS, _is_nibabel_image
from ..io.study import _SeriesList
from ..kernels.mpr import PLANE_AXES
from ..labels import Labels, Mask, Ontology
from ..labels.document import LabelObject
from ..labels.table import check_geometry
from . import masks
from .links import ViewLink, decode_view_link, encode_view_link, series_identity
from .protocol import (
    ANSWERED,
    Ack,
    Autosegment,
    Edit,
    GetLabels,
    GetMasks,
    GetMetadata,
    GetSlices,
    Interpolate,
    Paint,
    Ping,
    Redo,
    Release,
    Undo,
    parse_page_message,
    parse_stroke,
    parse_strokes,
    request_number,
)
from .streaming import SliceStreamer

__all__ = ["DicomAnnotator"]

log = logging.getLogger(__name__)

#: Said (briefly) to the page when its strokes changed no pixel.
PAINT_CHANGED_NOTHING = (
    "The strokes changed nothing: they lie outside the image, on pixels already so, or on no "
    "pixel in the threshold range."
)

_STATIC = files("dicom_annot_widget") / "static"

#: Zoom limits (1 = the whole image fits the view); the page uses the same.
MIN_ZOOM = 0.05
MAX_ZOOM = 64.0
#: Pan limit in millimetres (screen-aligned shift of the image centre).
MAX_PAN_MM = 100_000.0
#: Window values beyond this are refused (no modality has them; keeps links exact).
MAX_WINDOW_VALUE = 1e9


def _shown_window(series: Series) -> tuple[float, float]:
    """The window a series opens with: its default window, or, when that one is beyond what
    the widget shows (|center| or width above ``MAX_WINDOW_VALUE``, e.g. a WindowCenter of
    1e12), its first window that is not, else the default clamped into range."""
    candidates = [series.default_window, *series.windows]
    for w in candidates:
        if (
            math.isfinite(w.center)
            and math.isfinite(w.width)
            and abs(w.center) <= MAX_WINDOW_VALUE
            and 0 < w.width <= MAX_WINDOW_VALUE
        ):
            return (float(w.center), float(w.width))
    d = candidates[0]
    center = float(np.clip(np.nan_to_num(d.center), -MAX_WINDOW_VALUE, MAX_WINDOW_VALUE))
    width = float(np.clip(np.nan_to_num(d.width, nan=1.0), 1.0, MAX_WINDOW_VALUE))
    return (center, width)


class _Float(traitlets.Float):
    """A float trait that takes NumPy scalars (``np.float32(2)``) and refuses an integer too
    large for a float with a TraitError naming the trait, not the OverflowError of
    ``float()``."""

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, np.number) and not isinstance(value, np.complexfloating):
            value = float(value)
        try:
            return super().validate(obj, value)
        except OverflowError:
            raise WidgetValueError(
                f"{self.name or 'the value'} must be a finite number, got an integer of "
                f"{value.bit_length()} bits"
            ) from None


class _Speed(_Float):
    """A speed (the cine's frames per second): a number, not True or False."""

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, (bool, np.bool_)):
            raise WidgetValueError(f"{self.name} must be frames per second, got {value!r}")
        return super().validate(obj, value)


class _FloatPair(traitlets.Tuple):
    """A pair of floats (window, pan) refusing integers too large for a float by name."""

    def __init__(self, default_value: tuple[float, float]) -> None:
        super().__init__(_Float(), _Float(), default_value=default_value)

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str) and self.name == "window":
            value = obj._named_window(value)  # (a preset of the series, by name)
        if isinstance(value, (tuple, list)):
            for v in value:
                try:
                    float(v)
                except OverflowError:  # an integer no float holds
                    raise WidgetValueError(
                        f"{self.name} must be two finite numbers, got an integer of "
                        f"{v.bit_length()} bits"
                    ) from None
                except (TypeError, ValueError):
                    pass  # the element traits say what is wrong
        return super().validate(obj, value)


class _Bool(traitlets.Bool):
    """A boolean trait that also takes NumPy's (``np.True_``, as comparisons give)."""

    def validate(self, obj: Any, value: Any) -> Any:
        return super().validate(obj, bool(value) if isinstance(value, np.bool_) else value)


#: synced state the page may not change (see ``set_state``)
_KERNEL_OWNED = ("labels_state", "series_info", "_esm", "_css", "_anywidget_id")
#: The page's tools (``DicomAnnotator.tool``) and the object shapes each draws (none: it needs
#: no class).
TOOLS: dict[str, tuple[str, ...]] = {
    "select": (),
    "box": ("bounding_box",),
    "polygon": ("polygon",),
    "polyline": ("polyline",),
    "point": ("point",),
    "primitive": ("primitive",),
    "brush": ("bitmask",),
    "eraser": ("bitmask",),
    "threshold": ("bitmask",),
    "scissors": (),
    "measure": (),
}
#: The view traits kept per series (see ``DicomAnnotator._places``).
_PLACE_TRAITS = (
    "plane", "crosshair", "slab", "slice", "window", "zoom", "pan", "rotation", "flip", "invert"
)  # fmt: skip
#: The crosshair component (column, row, slice) that each plane's slice index is.
_CROSSHAIR_AXIS = {"axial": 2, "coronal": 1, "sagittal": 0}


def _affine(series: Series) -> list[list[float]] | None:
    """The 4x4 voxel (column, row, slice) -> patient LPS (mm) matrix, or None if unusable."""
    try:
        a = np.asarray(series.affine, dtype=float)
    except Exception:
        return None
    if a.shape != (4, 4) or not np.all(np.isfinite(a)):
        return None
    return [[float(v) for v in row] for row in a]


def _slice_origins(series: Series) -> list[list[float]] | None:
    """Each slice's ImagePositionPatient when the affine's even spacing would misplace some
    slice (a missing slice, uneven spacing): the page places the cursor's patient position
    through them, as :meth:`Labels.to_dataframe` does. ``None`` when the affine is exact."""
    try:
        geometry = check_geometry(series, None, len(series))
    except LabelError:
        return None
    if geometry is None or geometry.origins is None:
        return None
    return [[float(v) for v in p] for p in geometry.origins]


#: A random key per Series object shown in this kernel (see :func:`volume_key`).
_VOLUME_KEYS: weakref.WeakKeyDictionary[Series, str] = weakref.WeakKeyDictionary()


#: Fastest cine (frames per second).
MAX_CINE_FPS = 60.0

#: Series that widgets opened from files, by the files' identity (see :func:`_files_key`),
#: while a widget holds them: a widget given the same unchanged files shows the same Series,
#: so the kernel and the page hold one copy of its pixels.
_OPENED_FILES: weakref.WeakValueDictionary[tuple[Any, ...], Series] = weakref.WeakValueDictionary()
#: The widgets showing each Series they opened from files (a page that lets its copy go lets
#: the kernel's go only when no other widget shows it).
_OPENERS: weakref.WeakKeyDictionary[Series, weakref.WeakSet[Any]] = weakref.WeakKeyDictionary()


def _files_key(source: Any) -> tuple[Any, ...] | None:
    """What names the files of a path source: its real path (a folder or a file, None for a
    list) and each file's real path, inode, size, modification and status-change times; None
    for other sources (arrays, datasets, images) or when a file cannot be listed.

    The status-change time (``st_ctime`` on POSIX) moves with any write, and no tool can set
    it back, so a file rewritten with its modification time restored (``cp -p``, ``rsync -t``,
    ``tar``) is a changed file. (On Windows ``st_ctime`` is the creation time; there a
    rewrite that keeps size and modification time goes unseen.)"""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        where: str | None = os.path.realpath(path)
        paths = collect_paths(path) if os.path.isdir(path) else [path]
    elif (
        isinstance(source, (list, tuple))
        and source
        and all(isinstance(p, (str, os.PathLike)) for p in source)
    ):
        where = None
        paths = [os.fspath(p) for p in source]
    else:
        return None
    try:
        stats = [(os.path.realpath(p), os.stat(p)) for p in paths]
    except OSError:
        return None  # open_series says what is wrong
    return (
        where,
        tuple(
            sorted((p, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) for p, st in stats)
        ),
    )


def volume_key(series: Series) -> str:
    """A random token naming ``series`` (the Python object) for as long as it lives in this
    kernel: widgets showing the same ``Series`` hold one copy of its pixels in the page (the
    page keeps one volume per key). Random, so it says nothing about the data, and a new
    kernel's series never meets an old one's volume."""
    key = _VOLUME_KEYS.get(series)
    if key is None:
        key = uuid.uuid4().hex
        _VOLUME_KEYS[series] = key
    return key


def series_info(
    series: Series,
    series_id: str,
    *,
    index: int = 0,
    count: int = 1,
    uid_hash: str | None = None,
) -> dict[str, Any]:
    """The small, PHI-free description of a series that is synced to the page.

    Geometry (shape, spacing, affine) and display defaults only: no names, dates or UIDs (the
    series is named by a hash, ``uid_hash``, for view links).
    """
    shape = series.shape
    samples = int(shape[3]) if len(shape) == 4 else 1
    value_range = series.value_range
    if value_range is None:  # floating-point pixel data: the default window's extent
        d = series.default_window
        value_range = (d.center - d.width / 2, d.center + d.width / 2)
    lo, hi = value_range
    return {
        "id": series_id,
        "shape": [int(shape[0]), int(shape[1]), int(shape[2])],
        "spacing": [float(s) for s in series.spacing],
        "spacing_known": bool(series.spacing_known),
        "dtype": np.dtype(series.stored_dtype).name,
        # the series' modality values are floats (float pixel data, or a fractional rescale on
        # any slice): every slice is windowed with LINEAR_EXACT, as kernels.apply_window does
        # with the series' values (a slice's own rescale would choose per slice)
        "exact_window": bool(np.dtype(series.dtype).kind == "f"),
        "samples_per_pixel": samples,
        "units": series.units,
        "value_range": [float(lo), float(hi)],
        "windows": [
            {"name": w.name, "center": float(w.center), "width": float(w.width), "source": w.source}
            for w in series.windows
        ],
        "plane": series.plane,
        "modality": str(series.modality or ""),
        "photometric_interpretation": str(series.photometric_interpretation),
        # MONOCHROME1 or PresentationLUTShape INVERSE: the minimum value is displayed white
        # (the page inverts the window)
        "display_inverted": bool(series.display_inverted),
        "affine": _affine(series),
        # (arrays have a made-up orientation: the page shows no orientation markers then)
        "orientation_known": bool(series.orientation_known),
        "slice_origins": _slice_origins(series),
        # the image number of each slice (not patient data): the overlay shows it beside the
        # slice's own number, which counts by position
        "instance_numbers": series.instance_numbers,
        # a cine loop: no reformats; the cine plays at its recorded rate
        "temporal": bool(series.temporal),
        # a radiograph's directions (no ImageOrientationPatient): the page's edge markers
        "patient_orientation": list(series.patient_orientation) or None,
        "frame_rate": series.frame_rate,
        "uid_hash": series_identity(series) if uid_hash is None else uid_hash,
        "series_index": int(index),
        "series_count": int(count),
        "volume_key": volume_key(series),
    }


def _window_argument(window: Any) -> tuple[Any, ...]:
    """The ``window=`` argument as a tuple; the trait checks its values."""
    if isinstance(window, (str, bytes)) or not hasattr(window, "__iter__"):
        raise TypeError(f"window must be (center, width), got {window!r}")
    return tuple(window)


#: What the widgets take as their source (for the message refusing anything else).
SOURCES = ", ".join(
    (
        *_ACCEPTED_KINDS,
        "a Series",
        "a Study (or its .series)",
        "or a list of series, arrays, folders or studies (shown one at a time)",
    )
)


class _StudySeries:
    """A source of the widget: series ``index`` of a study, opened (by the study, which keeps
    it) when first shown."""

    __slots__ = ("index", "study")

    def __init__(self, study: Study, index: int) -> None:
        self.study = study
        self.index = index

    def open(self) -> Series:
        return self.study.open(self.index)

    def opened_as(self, series: Series) -> bool:
        """Whether ``series`` is this series (opened by the study already; opens nothing)."""
        return self.study.opened(self.index) is series


def _study_of(source: Any) -> Study | None:
    """The study a source is (a :class:`Study` or its ``.series``), else None."""
    if isinstance(source, Study):
        return source
    if isinstance(source, _SeriesList):
        return source._study
    return None


def _is_separate_source(item: Any) -> bool:
    """Whether a list element is a series of its own (rather than one file of one series)."""
    if isinstance(item, (Series, np.ndarray, list, tuple)) or _study_of(item) is not None:
        return True
    return isinstance(item, (str, os.PathLike)) and os.path.isdir(item)


def _expand_studies(sources: Sequence[Any]) -> list[Any]:
    """``sources`` with each study replaced by its series (opened when first shown)."""
    out: list[Any] = []
    for item in sources:
        study = _study_of(item)
        if study is None:
            out.append(item)
        else:
            out.extend(_StudySeries(study, i) for i in range(len(study)))
    if not out:  # only studies, all without an image
        study = _study_of(sources[0])
        assert study is not None
        skipped = f" ({len(study.skipped)} file(s) skipped; see study.skipped)"
        raise DicomLoadError(
            f"No DICOM image found in the study of '{study.root}': it has no series to show"
            + (skipped if study.skipped else "")
        )
    return out


def _split_sources(source: Any) -> list[Any]:
    """One source, or several shown one after the other: a study's series, or a list of
    series / arrays / folders / studies.

    Raises
    ------
    TypeError
        For a source of a type no widget shows (the message lists those it does).
    """
    if _study_of(source) is not None:
        return _expand_studies([source])
    if (
        isinstance(source, (list, tuple))
        and len(source) > 0
        and all(_is_separate_source(s) for s in source)
    ):
        return _expand_studies(source)
    if not (
        isinstance(source, (str, os.PathLike, Series, np.ndarray, Dataset, list, tuple))
        or _is_nibabel_image(source)
    ):
        raise TypeError(f"source must be {SOURCES}, not {type(source).__name__}")
    if isinstance(source, (list, tuple)):
        paths = [s for s in source if isinstance(s, (str, os.PathLike))]
        missing = [os.fspath(s) for s in paths if not os.path.exists(s)]
        if missing and any(os.path.isdir(s) for s in paths):
            # folders are series of their own: the others were meant as folders too
            listed = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DicomLoadError(
                f"{len(missing)} of the {len(source)} given sources do not exist: {listed} "
                "(the others are folders, each opened as a series of its own)"
            )
        folders = [os.fspath(s) for s in paths if os.path.isdir(s)]
        files = [os.fspath(s) for s in paths if os.path.isfile(s)]
        if folders and files:
            raise DicomLoadError(
                f"the list mixes {len(folders)} folder(s) ({folders[0]!r}...), each shown as a "
                f"series of its own, with {len(files)} file(s) ({files[0]!r}...), which make one "
                "series together: give folders only (several series) or files only (one series)"
            )
    return [source]


def _json_safe(value: Any, depth: int = 0) -> Any:
    """A copy of a metadata tree that any JSON encoder accepts (NaN and bytes as text)."""
    if depth > 64:
        return None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item(), depth + 1)
    return str(value)


def _metadata_elements(tree: Any) -> list[Any]:
    """The elements shown for one slice: file meta, dataset, and (multi-frame) this frame's
    functional groups as one sequence item. File paths are left out (they may hold names)."""
    if isinstance(tree, list):
        return tree
    if not isinstance(tree, dict):
        return []
    out: list[Any] = []
    for key in ("file_meta", "elements"):
        part = tree.get(key)
        if isinstance(part, list):
            out.extend(part)
    groups = tree.get("frame_functional_groups")
    if isinstance(groups, list) and groups:
        out.append(
            {
                "tag": "(5200,9230)",
                "keyword": "PerFrameFunctionalGroupsSequence",
                "name": "Per-frame Functional Groups (this frame)",
                "vr": "SQ",
                "value": [groups],
            }
        )
    return out


def _note_substitutions(elements: list[Any], substitutions: Sequence[Any]) -> list[Any]:
    """The top-level UID elements the file leaves empty, with the UID the reader uses instead
    (``series.uid_substitutions``), so that what an export references can be found in the
    panel: ``(empty in the file; read as 1.2.3...)``."""
    used = {s.keyword: s.substitute for s in substitutions}
    if not used:
        return elements
    media = next(
        (
            e.get("value")
            for e in elements
            if isinstance(e, dict) and e.get("keyword") == "MediaStorageSOPInstanceUID"
        ),
        None,
    )
    out = []
    for e in elements:
        keyword = e.get("keyword") if isinstance(e, dict) else None
        if keyword in used and e.get("value") in ("", None):
            substitute = used[keyword]
            if keyword == "SOPInstanceUID":  # per file: the file meta's UID
                substitute = f"MediaStorageSOPInstanceUID {media}" if media else None
            if substitute:
                e = {**e, "value": f"(empty in the file; read as {substitute})"}
        out.append(e)
    return out


def _object_state(obj: LabelObject) -> dict[str, Any]:
    """An object as in the ``dicom-annot/1`` document, except that bitmask keyframes carry
    ``mask_area`` (foreground pixels of that slice) and ``mask_crc`` (a checksum of its
    content, :func:`~dicom_annot_widget.widget.masks.mask_crc`: the page asks for a slice's
    masks again only when it changed) instead of the run-length ``mask``."""
    data = obj.to_json(masks=False)
    keyframes: dict[str, Any] = {}
    for k, kf in obj.keyframes.items():
        if isinstance(kf.geometry, Mask):
            keyframes[str(k)] = {
                "manual": kf.manual,
                "mask_area": int(kf.geometry.area),
                "mask_crc": masks.mask_crc(kf.geometry),
            }
        else:
            keyframes[str(k)] = data["keyframes"][str(k)]
    data["keyframes"] = keyframes
    return data


#: A widget's cache for :func:`compact_labels_state`: uuid -> (object, its state).
StateCache = dict[str, tuple[LabelObject, dict[str, Any]]]


def _cached_object_state(obj: LabelObject, cache: StateCache | None) -> dict[str, Any]:
    """``_object_state(obj)``, reused while the object is the same (objects are immutable:
    an edit replaces the object, so identity says whether it changed)."""
    if cache is None:
        return _object_state(obj)
    hit = cache.get(obj.uuid)
    if hit is not None and hit[0] is obj:
        return hit[1]
    state = _object_state(obj)
    cache[obj.uuid] = (obj, state)
    return state


def compact_labels_state(labels: Labels, cache: StateCache | None = None) -> dict[str, Any]:
    """The compact form of a label document synced to the page as ``labels_state``:
    ``{"revision", "ontology" (None when it has no classes or classifications), "objects",
    "frame_classifications", "measurements", "read_only", "can_undo", "can_redo"}``.

    Objects are in their document form (``static``, ``dynamic``, ``source``, ``confidence``...)
    except that mask keyframes are summarised (``{manual, mask_area, mask_crc}``); frame
    classifications and measurements are in their document form too. No pixel data and no
    DICOM text.

    With a ``cache`` (kept by the caller between calls, for one ``labels``), the state of each
    object that did not change since the last call is reused rather than rebuilt: an edit then
    costs in proportion to what it changed, not to the document (the returned dicts are shared
    between calls: do not modify them)."""
    with labels._lock:  # one consistent snapshot even if another thread edits
        onto = labels.ontology
        empty = not onto.objects and not onto.classifications
        doc = labels.document
        if cache is not None and len(cache) > len(doc.objects):
            for uuid in [u for u in cache if u not in doc.objects]:
                del cache[uuid]
        frames = sorted(
            doc.frame_classifications.values(),
            key=lambda f: (f.plane, f.classification, f.ranges[0], f.uuid),
        )
        return {
            "revision": int(labels.revision),
            "ontology": None if empty else onto.to_dict(),
            "objects": [_cached_object_state(o, cache) for o in doc.objects.values()],
            "frame_classifications": [f.to_json() for f in frames],
            "measurements": [
                m.to_json()
                for m in sorted(doc.measurements.values(), key=lambda m: (m.created, m.uuid))
            ],
            "read_only": bool(labels.read_only),
            # the page's undo / redo buttons are off when there is nothing to take back
            "can_undo": bool(labels.can_undo),
            "can_redo": bool(labels.can_redo),
        }


#: A labels change touching more objects than this goes to the page as a whole new state.
PATCH_MAX_OBJECTS = 512


def labels_patch(old: Any, new: dict[str, Any]) -> dict[str, Any] | None:
    """What changed from one compact labels state to the next, for the page: ``{"base",
    "revision", "upsert": [objects], "remove": [uuids], "read_only", "can_undo", "can_redo"}``
    (and
    ``"frame_classifications"``, ``"measurements"`` when they changed); ``None`` when the page
    should get the whole state (no earlier state, another ontology, or many objects changed).

    Unchanged objects are the very same dicts in both states (see ``compact_labels_state``'s
    cache), so finding the changed ones costs a pass over the uuids."""
    if not isinstance(old, dict) or old.get("revision", -1) < 0 or "objects" not in old:
        return None
    if old.get("ontology") != new.get("ontology"):
        return None
    before = {o["uuid"]: o for o in old["objects"]}
    upsert = [o for o in new["objects"] if before.get(o["uuid"]) is not o]
    now = {o["uuid"] for o in new["objects"]}
    remove = [uuid for uuid in before if uuid not in now]
    if len(upsert) + len(remove) > PATCH_MAX_OBJECTS:
        return None
    patch: dict[str, Any] = {
        "base": old["revision"],
        "revision": new["revision"],
        "upsert": upsert,
        "remove": remove,
        "read_only": new["read_only"],
        "can_undo": new["can_undo"],
        "can_redo": new["can_redo"],
    }
    for key in ("frame_classifications", "measurements"):
        if new[key] != old.get(key):
            patch[key] = new[key]
    return patch


def _coerce_ontology(value: Any) -> Ontology:
    if value is None:
        return Ontology.from_dict({"objects": []})
    if isinstance(value, Ontology):
        return value
    if isinstance(value, dict):
        return Ontology.from_dict(value)
    raise TypeError(f"ontology must be an Ontology or a dict, got {type(value).__name__}")


def _check_labels_fit(labels: Labels, series: Series) -> None:
    shape = tuple(int(n) for n in series.shape[:3])
    if tuple(labels.series.shape) != shape:
        raise LabelError(
            f"labels: these labels are for a series of shape {tuple(labels.series.shape)} "
            f"(slices, rows, columns); the series shown has shape {shape}"
        )
    # as the exports check it: a real SeriesInstanceUID must be the labels' (labels of another
    # series of the same size would show, then refuse every export)
    generated = any(s.keyword == "SeriesInstanceUID" for s in series.uid_substitutions)
    if not generated and series.series_instance_uid != labels.series.series_instance_uid:
        raise LabelError(
            f"labels: these labels are for series {labels.series.series_instance_uid}, not the "
            f"series shown ({series.series_instance_uid}); make them with "
            "Labels(series, ontology) or Labels.open(series, ontology, path)"
        )


#: Whole labels states sent to pages (see ``_labels_state_to_json``).
_WHOLE_STATES_SENT = itertools.count(1)


def _labels_state_to_json(value: dict[str, Any], widget: Any) -> memoryview:
    """``labels_state`` travels to the page as one binary buffer of UTF-8 JSON text.

    As a plain dict, every edit would make ipywidgets walk the whole document looking for
    buffers and the kernel's session encode it as JSON again (about 70 ms per edit with 500
    objects); as bytes it is serialised once and sent as is. The page decodes it
    (``parseLabelsState`` in js/labels.ts). In Python ``w.labels_state`` stays a dict."""
    # Each whole state that goes out carries a new "sent" number: the page keeps the last
    # whole state and changes its copy by patches, so a whole state equal to the one it last
    # got (a series switched back to, an answer to get_labels) must still read as new (the
    # page's model ignores a value equal to the one it has; QA: a switch showed the labels of
    # the series before).
    sent = next(_WHOLE_STATES_SENT)
    if widget is not None:
        widget._whole_labels_sent = sent
    return memoryview(orjson.dumps({**value, "sent": sent}))


def _slab_for_mm(mm: float, slice_spacing: float, slices: int) -> int:
    """A projection of ``mm`` millimetres in slices ``slice_spacing`` mm apart: at least 2 (still
    a projection), at most ``slices`` (the page's ``slabForMm`` in js/render/planes.ts)."""
    n = math.floor(mm / (slice_spacing if slice_spacing > 0 else 1.0) + 0.5)
    return max(1, min(slices, max(2, n)))


def _centre(series: Series, k: int) -> tuple[int, int, int]:
    """The crosshair a series starts with: the middle of slice ``k``."""
    return (int(series.shape[2]) // 2, int(series.shape[1]) // 2, int(k))


class DicomAnnotator(anywidget.AnyWidget):
    """View a DICOM series (or a NIfTI / NumPy volume) inside a notebook.

    Every control of the viewer has a trait that stays in sync both ways and can be observed:
    ``plane``, ``slice``, ``crosshair``, ``slab``, ``window``, ``zoom``, ``pan``, ``rotation``,
    ``flip``, ``invert``, ``frameskip``, ``cine`` (frames per second; 0 stops) and
    ``series_index``. Values set from Python are
    validated (a :class:`traitlets.TraitError` names the value and the allowed range); values
    from the page that fail validation are refused, the page is told why and shows the
    previous state again.

    Parameters
    ----------
    source
        Anything :func:`dicom_annot_widget.open_series` accepts (a folder, files, datasets, a
        NIfTI file, an array), or an already opened :class:`~dicom_annot_widget.Series`. A
        :class:`~dicom_annot_widget.Study` (:func:`~dicom_annot_widget.open_study`, or its
        ``.series``), or a list of series, arrays, folders or studies, shows them one at a
        time, with previous/next buttons (``series_index``); each is opened when first shown
        (a study's series by the study, which keeps them).
    slice
        Slice to show first; defaults to the middle slice.
    window
        ``(center, width)`` in modality units (HU for CT), or the name of one of the series'
        presets (``"Lung"``, ``"WINDOW1"``: see ``series.windows``); defaults to the
        series' default window.
    view
        A view link (see :attr:`view_link`) to restore instead of the defaults.
    frameskip
        Slices per step of the arrow keys, buttons, wheel and slice bar (default 1).
    ontology
        The :class:`~dicom_annot_widget.labels.Ontology` (or its dict form) to annotate with.
        Without one (and without ``labels``) the widget is a viewer with empty labels.
    labels
        Existing :class:`~dicom_annot_widget.labels.Labels` to show and edit (single series
        only; their shape must match the series). The widget does not close them.
    label_path
        A label file: the labels are opened with
        :meth:`Labels.open(series, ontology, label_path) <dicom_annot_widget.labels.Labels.open>`
        and every edit is durable; :meth:`close` closes the file. Without it (and without
        ``labels``) the labels live in memory (see :attr:`labels`). A file that an older widget
        or :class:`~dicom_annot_widget.labels.Labels` of this kernel still has open (the cell
        run again) is taken over, with every label: the older one then refuses edits, saying
        so. A file open in another process is refused.

    Notes
    -----
    Only small, PHI-free state is synced (shape, spacing, view state). Pixels travel as binary
    messages on request of the page, one slice per message; DICOM metadata only as an answer
    to the page's ``get_metadata`` message, never in synced state.
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    series_info = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    #: The plane shown, in the label document's names: "axial" is the series' own slices
    #: (whatever way it was acquired), "coronal" its rows and "sagittal" its columns as slices
    #: (reformats, computed in the page).
    plane = traitlets.Unicode("axial").tag(sync=True)
    #: The slice shown: an index of the plane shown (a slice, a row or a column of the series).
    slice = traitlets.Int(0).tag(sync=True)
    #: ``(column, row, slice)``: the voxel where the three planes cross. Each plane shows the
    #: slice through it (``slice`` is its component of the plane shown); the crosshair lines
    #: in the page mark it.
    crosshair = traitlets.Tuple(
        traitlets.Int(), traitlets.Int(), traitlets.Int(), default_value=(0, 0, 0)
    ).tag(sync=True)
    #: Slices of the plane shown that make up a maximum intensity projection around ``slice``
    #: (1: the slice alone; see :func:`dicom_annot_widget.kernels.plane_image`).
    slab = traitlets.Int(1).tag(sync=True)
    #: ``(center, width)`` in modality units (HU for CT); a preset's name sets its window
    #: (``w.window = "Lung"``: one of ``w.series.windows``).
    window = _FloatPair(default_value=(40.0, 400.0)).tag(sync=True)
    #: 1 = the whole image fits the view; 2 = twice as large. (The page's data overlay says
    #: "Zoom" as screen pixels per image pixel, as viewers do: a 512-column image fitted to
    #: 700 px shows 1.37x at ``zoom`` 1.)
    zoom = _Float(1.0).tag(sync=True)
    #: Screen-aligned shift of the image centre, in millimetres (x right, y down).
    pan = _FloatPair(default_value=(0.0, 0.0)).tag(sync=True)
    #: Degrees clockwise on screen, in [0, 360).
    rotation = _Float(0.0).tag(sync=True)
    #: (horizontal, vertical) mirroring of the screen image.
    flip = traitlets.Tuple(_Bool(), _Bool(), default_value=(False, False)).tag(sync=True)
    #: The grey scale shown inverted (a negative), relative to how DICOM presents the image
    #: (MONOCHROME1 or PresentationLUTShape INVERSE, minimum white, is already shown that way:
    #: ``invert`` flips it back).
    invert = _Bool(False).tag(sync=True)
    #: The crosshair lines (where the planes cross, :attr:`crosshair`) drawn over the image;
    #: the page's crosshair button and Alt+X set it too. On in :class:`OrthogonalViews`.
    crosshair_lines = _Bool(False).tag(sync=True)
    #: Slices per navigation step.
    frameskip = traitlets.Int(1).tag(sync=True)
    #: Cine: frames per second at which the page shows the plane's slices one after the
    #: other, looping, with the frameskip (0: stopped; at most MAX_CINE_FPS). The play button
    #: and the ``p`` key in the page set it; ``slice`` follows along.
    cine = _Speed(0.0).tag(sync=True)
    #: Which of the widget's series is shown.
    series_index = traitlets.Int(0).tag(sync=True)
    #: Compact labels of the series shown (see :func:`compact_labels_state`); kernel -> page only.
    labels_state = traitlets.Dict().tag(sync=True, to_json=_labels_state_to_json)
    #: The uuid of the object selected in the page (None: none), as a click on it or its row
    #: in the objects panel selects it; set it to select one from Python (an object of the
    #: labels shown). Cleared when the object goes.
    selected = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: uuids of the objects not drawn (the eye button of the objects panel); hiding the
    #: selected object unselects it. Objects that go leave the list.
    hidden = traitlets.List(traitlets.Unicode(), default_value=[]).tag(sync=True)
    #: The page's tool: one of :data:`TOOLS`. A drawing tool needs a class of its shape in the
    #: ontology (and labels that are not read-only); choosing one picks such a class if the
    #: active class is of another shape.
    tool = traitlets.Unicode("select").tag(sync=True)
    #: The object class new shapes are drawn with (its id; a name or hotkey is taken too), or
    #: None before one is chosen. Choosing one picks its shape's tool if the tool draws
    #: another shape.
    active_class = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: The opacity of the masks drawn over the image, 0 (not drawn) to 1 (the mask popup's
    #: slider).
    mask_opacity = _Float(0.5).tag(sync=True)
    #: Whether painting a bitmask object takes the pixels it gains from the other bitmask
    #: objects there (each voxel then belongs to one object, as in a labelmap: 3D Slicer's
    #: "overwrite other segments"), or lets masks overlap (default). The mask popup's
    #: "Overwrite other masks"; the default of :meth:`brush`, :meth:`threshold_brush` and
    #: :meth:`paint`.
    mask_overwrite = _Bool(False).tag(sync=True)

    def __init__(
        self,
        source: Any,
        *,
        slice: int | None = None,
        window: Sequence[float] | None = None,
        view: str | None = None,
        frameskip: int = 1,
        ontology: Ontology | dict[str, Any] | None = None,
        labels: Labels | None = None,
        label_path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        allowed = {"layout"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(
                f"DicomAnnotator() got unexpected keyword argument(s): {', '.join(sorted(unknown))}"
            )
        if labels is not None and not isinstance(labels, Labels):
            raise TypeError(f"labels must be a Labels object, got {type(labels).__name__}")
        if labels is not None and (ontology is not None or label_path is not None):
            raise TypeError(
                "give either labels= or ontology=/label_path=: the labels bring their ontology"
            )
        self._sources = _split_sources(source)
        first = self._sources[0]
        if isinstance(first, (str, os.PathLike)) and not os.path.exists(first):
            # said before the comm opens below: a page that saw it open and close at once
            # logs "[anywidget] Failed to initialize model." (QA 22b, the commonest mistake)
            raise DicomLoadError(f"'{os.fspath(first)}' does not exist.")
        if (labels is not None or label_path is not None) and len(self._sources) > 1:
            raise ValueError("labels= and label_path= need a single series")
        self._opened: dict[int, Series] = {}
        self._identities: dict[int, str] = {}
        #: where the user left each series (slice, window, zoom, pan, rotation, flip): a
        #: series switched back to opens there again
        self._places: dict[int, dict[str, Any]] = {}
        self._ontology_given = ontology is not None
        self._ontology = _coerce_ontology(ontology) if labels is None else labels.ontology
        self._label_path = label_path
        self._labels_by_index: dict[int, Labels] = {}
        self._owned_labels: list[Labels] = []
        self._observed: Labels | None = None
        #: the observed labels' objects and their state (reset when other labels are watched)
        self._state_cache: StateCache = {}
        #: depth of ``hold_labels`` blocks, and whether an edit came in during them
        self._labels_held: dict[int, int] = {}  # thread id -> depth of its blocks
        self._labels_dirty = False
        #: True while ``labels_state`` is set for Python only (the page gets a patch)
        self._patching = False
        #: A view has asked for the whole labels_state: from then on changes go as patches
        self._page_asked = False
        #: The ``sent`` number of the last whole labels_state sent (see send_state)
        self._whole_labels_sent = 0
        #: False until the first series is open: validators that need it wait for it.
        self._ready = False
        #: True while the page's state is applied (``set_state``): a uuid it names that is
        #: gone is dropped, not refused
        self._from_page = False
        #: True while a view is restored (a link, a series switched to) or the page sets the
        #: plane with its slab: the slab is not converted to the new plane's slices then.
        self._keep_slab = False
        #: (plane, slab, millimetres) of the last slab converted to another plane: going on
        #: to a third plane starts from those millimetres, not the rounded slab
        self._slab_record: tuple[str, int, float] | None = None
        # The comm opens first, so that the page builds the widget's model (its code is
        # compiled, its loader created) while the headers are read below; the series' state
        # follows in one update (measured: the page's part took 90 ms of the first paint).
        super().__init__(**kwargs)
        try:
            series = self._open(0)
            n = series.shape[0]
            # checked before the labels open: a label file taken over from an older widget
            # (see Labels.open) is not taken for a widget that fails
            if slice is not None and (
                isinstance(slice, (bool, np.bool_))
                or not isinstance(slice, (int, np.integer))
                or not 0 <= slice < n
            ):
                raise WidgetValueError(
                    f"slice={describe(slice)}: expected an axial slice number in [0, {n - 1}] (the "
                    f"series has {n} slices)"
                )
            if labels is not None:
                _check_labels_fit(labels, series)
                self._labels_by_index[0] = labels
            current_labels = self._labels_for(0)
            self._series = series
            self._series_id = "s0"
            self._ready = True
            start = n // 2 if slice is None else int(slice)
            if window is None:
                win = _shown_window(series)
            elif isinstance(window, str):
                win = self._named_window(window)
            else:
                win = _window_argument(window)
            self._streamer = SliceStreamer(series, self._series_id, self._send_to_page)
            # the first slice goes ahead of the state that describes it (see send_unasked)
            self._streamer.send_unasked(start)
            with self.hold_sync(), self.hold_trait_notifications():
                self.series_info = series_info(
                    series, self._series_id, count=len(self._sources), uid_hash=self._identity(0)
                )
                self.crosshair = _centre(series, start)
                self.slice = start
                self.window = win
                self.frameskip = frameskip
                self.labels_state = compact_labels_state(current_labels)
        except BaseException:  # e.g. no image in the folder, a slice out of range
            self.close()  # closes the comm, and a label file opened above
            raise
        self._watch_labels(current_labels)
        self.on_msg(self._on_page_message)
        if view is not None:
            self.goto(view)

    def _send_to_page(self, content: dict[str, Any], buffers: list[memoryview]) -> None:
        self.send(content, buffers=buffers)

    # -- series ------------------------------------------------------------------------------

    def _open(self, index: int) -> Series:
        """The series at ``index``, opened on first use."""
        if index not in self._opened:
            src = self._sources[index]
            if isinstance(src, Series):
                self._opened[index] = src
            elif isinstance(src, _StudySeries):  # the study's: it keeps it open
                self._opened[index] = src.open()
            else:
                key = _files_key(src)
                series = _OPENED_FILES.get(key) if key is not None else None
                if series is None:
                    series = open_series(src)
                    if key is not None:
                        _OPENED_FILES[key] = series
                _OPENERS.setdefault(series, weakref.WeakSet()).add(self)
                self._opened[index] = series
        return self._opened[index]

    def _identity(self, index: int) -> str:
        """The hash naming series ``index`` in view links (computed once)."""
        if index not in self._identities:
            self._identities[index] = series_identity(self._open(index))
        return self._identities[index]

    @property
    def series(self) -> Series:
        """The series shown. Assign an index or one of :attr:`series_list` to switch."""
        return self._series

    @series.setter
    def series(self, value: int | Series) -> None:
        if isinstance(value, Series):
            for i, src in enumerate(self._sources):
                if (
                    src is value
                    or self._opened.get(i) is value
                    or (isinstance(src, _StudySeries) and src.opened_as(value))
                ):
                    self.series_index = i
                    return
            raise ValueError("this series is not one of the widget's series (see series_list)")
        self.series_index = value

    @property
    def series_count(self) -> int:
        """How many series the widget can show."""
        return len(self._sources)

    @property
    def series_list(self) -> list[Series]:
        """All the widget's series (opens those not opened yet)."""
        return [self._open(i) for i in range(len(self._sources))]

    @traitlets.validate("series_index")
    def _validate_series_index(self, proposal: dict[str, Any]) -> int:
        i = proposal["value"]
        if not self._ready:  # the default, before the first series is open
            return int(i)
        n = len(self._sources)
        if not 0 <= i < n:
            raise WidgetValueError(f"series_index must be in [0, {n - 1}], got {i}")
        try:
            self._open(i)
        except Exception as exc:  # a source that cannot be opened leaves the view as it was
            raise WidgetValueError(f"series {i} could not be opened: {exc}") from exc
        return int(i)

    @traitlets.observe("series_index")
    def _on_series_index(self, change: dict[str, Any]) -> None:
        i = int(change["new"])
        series = self._open(i)
        if series is self._series and self.series_info and self.series_info["id"] == f"s{i}":
            return
        old_streamer = getattr(self, "_streamer", None)
        if old_streamer is not None:
            old_streamer.close()
        old = change.get("old")
        if isinstance(old, int) and old in self._opened:
            self._places[old] = {name: getattr(self, name) for name in _PLACE_TRAITS}
        self._series = series
        self._series_id = f"s{i}"
        n = series.shape[0]
        # the series' own place when it was shown before; else its middle slice, its window,
        # the whole image, upright (a flip or rotation of another series would show this one
        # left/right swapped)
        place = self._places.get(
            i,
            {
                "plane": "axial",
                "crosshair": _centre(series, n // 2),
                "slab": 1,
                "slice": n // 2,
                "window": _shown_window(series),
                "zoom": 1.0,
                "pan": (0.0, 0.0),
                "rotation": 0.0,
                "flip": (False, False),
                "invert": False,
            },
        )
        with self._restoring(), self.hold_sync(), self.hold_trait_notifications():
            self.series_info = series_info(
                series,
                self._series_id,
                index=i,
                count=len(self._sources),
                uid_hash=self._identity(i),
            )
            self.plane = place["plane"]
            self.crosshair = place["crosshair"]
            self.slab = place["slab"]
            self.slice = place["slice"]
            self.window = place["window"]
            self.frameskip = min(self.frameskip, max(1, max(series.shape[:3]) - 1))
            self.zoom = place["zoom"]
            self.pan = place["pan"]
            self.rotation = place["rotation"]
            self.flip = place["flip"]
            self.invert = place["invert"]
            self._watch_labels(self._labels_for(i))
            self._sync_labels_state()
        self._streamer = SliceStreamer(series, self._series_id, self._send_to_page)

    # -- labels ------------------------------------------------------------------------------

    def _labels_for(self, index: int) -> Labels:
        """The labels of series ``index``, created on first use."""
        if index not in self._labels_by_index:
            series = self._open(index)
            if self._label_path is not None:
                # without an ontology, an existing file keeps the one it stores
                keep = not self._ontology_given and os.path.exists(self._label_path)
                made = Labels.open(series, None if keep else self._ontology, self._label_path)
            else:
                made = Labels(series, self._ontology)
            self._owned_labels.append(made)
            self._labels_by_index[index] = made
        return self._labels_by_index[index]

    def _watch_labels(self, labels: Labels) -> None:
        """Echo every edit of ``labels`` (page, script, undo, redo) to ``labels_state``."""
        if self._observed is labels:
            return
        if self._observed is not None:
            self._observed.unobserve(self._on_labels_change)
            self._observed._mode_observers.remove(self._on_labels_mode)
        labels.observe(self._on_labels_change)
        labels._mode_observers.append(self._on_labels_mode)
        self._observed = labels
        self._state_cache = {}
        self._prune_view_objects()  # (another series' labels)

    def _on_labels_mode(self) -> None:
        """Review mode turned on or off on the labels themselves (``w.labels.read_only``)."""
        self._on_labels_change(None, self._observed.revision if self._observed else 0)

    def _on_labels_change(self, _op: Any, _revision: int) -> None:
        self._prune_view_objects()
        # only the thread in the block waits: an edit from the page (or any other thread)
        # meanwhile is shown at once (QA 22a: a reviewer's accepts showed nothing for the 5 s
        # a script thread held the labels, and a second click decided them again)
        if threading.get_ident() in self._labels_held:
            self._labels_dirty = True
            return
        self._sync_labels_state()

    @contextlib.contextmanager
    def hold_labels(self) -> Iterator[Labels]:
        """Send the labels to the page once, when the block ends, however many edits it
        makes (each edit otherwise sends the whole labels state: a script adding thousands
        of keyframes one call at a time spends most of its time there).

        Edits inside are applied, journaled and undoable one by one as usual; only the page
        waits for them. Blocks may nest; the outermost one sends. The hold is the calling
        thread's: edits made meanwhile by the page, or by another thread, are shown at once
        (with those of the block so far). Yields :attr:`labels`::

            with w.hold_labels() as labels:
                for k, box in boxes.items():
                    labels.add_box("Lesion", k, box, uuid=track)
        """
        me = threading.get_ident()
        self._labels_held[me] = self._labels_held.get(me, 0) + 1
        try:
            yield self.labels
        finally:
            depth = self._labels_held.pop(me) - 1
            if depth:
                self._labels_held[me] = depth
            elif self._labels_dirty:
                self._labels_dirty = False
                observed = self._observed
                # under the labels' lock, as the echo of an edit is: one echo at a time
                with observed._lock if observed is not None else contextlib.nullcontext():
                    self._sync_labels_state()

    def _sync_labels_state(self) -> None:
        """Echo the observed labels: to Python's ``labels_state`` always; to the page as a
        ``labels_patch`` of the objects that changed, or, when much changed (or the ontology),
        as the whole state (an edit among thousands of objects then sends kilobytes, not
        megabytes: QA measured 4 MB per edit with 5,000 objects)."""
        if self._observed is None:
            return
        new = compact_labels_state(self._observed, self._state_cache)
        # patches only once a view has asked for the whole state (each view asks when it is
        # made): a patch sent before that, for edits made before the widget is shown, would
        # reach no view, and the synced trait they would read would be behind
        patch = labels_patch(self.labels_state, new) if self._page_asked else None
        if patch is None:
            self.labels_state = new
            return
        self._patching = True
        try:
            self.labels_state = new  # observers see it; the page gets the patch instead
        finally:
            self._patching = False
        body = memoryview(orjson.dumps(patch))
        self.send({"type": "labels_patch", "series": self._series_id}, [body])

    def _should_send_property(self, key: str, value: Any) -> bool:
        if key == "labels_state" and self._patching:
            return False
        return bool(super()._should_send_property(key, value))

    def send_state(self, key: str | Iterable[str] | None = None) -> None:
        """Send trait values to the page (ipywidgets); a whole ``labels_state`` sent to views
        that asked for it is followed by a marker that takes its place in the page's model.

        The views keep the document they took and follow it by patches, which the model never
        sees; JupyterLab saves the model's values in the notebook. Left in place, the whole
        state would be saved as it was when sent: reopened without its kernel, the notebook
        showed labels and predictions to review that had long been edited, accepted or
        rejected (QA 22a). The marker, ``{"kept": n}`` (n: the ``sent`` number of that whole
        state), tells a view holding it to keep what it has, and a view made later to ask."""
        super().send_state(key)
        keys = self.keys if key is None else [key] if isinstance(key, str) else key
        if "labels_state" in keys and self._page_asked and self.comm is not None:
            body = memoryview(orjson.dumps({"kept": self._whole_labels_sent}))
            self._send(
                {"method": "update", "state": {}, "buffer_paths": [["labels_state"]]},
                buffers=[body],
            )

    @property
    def labels(self) -> Labels:
        """The labels of the series shown (the source of truth; edits made here, such as
        ``w.labels.add_box(...)``, show up in the page). In memory unless the widget was given
        ``label_path`` or ``labels`` backed by a file."""
        return self._labels_for(int(self.series_index))

    @property
    def read_only(self) -> bool:
        """Review mode of :attr:`labels`: while True the page (and scripts) cannot edit."""
        return self.labels.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"read_only must be True or False, got {value!r}")
        self.labels.read_only = bool(value)  # (the labels tell the page)

    # -- view state validation ---------------------------------------------------------------

    @traitlets.validate("slice")
    def _validate_slice(self, proposal: dict[str, Any]) -> int:
        if isinstance(proposal["value"], (bool, np.bool_)):
            raise WidgetValueError(f"slice must be a slice number, got {proposal['value']!r}")
        k = int(proposal["value"])
        if not self._ready:  # the default, before the series is open
            return k
        n = self._plane_slices(self.plane)
        if not 0 <= k < n:
            raise WidgetValueError(f"{self.plane} slice must be in [0, {n - 1}], got {describe(k)}")
        return k

    def _plane_slices(self, plane: str) -> int:
        """How many slices ``plane`` has in the series shown."""
        return int(self._series.shape[PLANE_AXES[plane]])

    @traitlets.validate("plane")
    def _validate_plane(self, proposal: dict[str, Any]) -> str:
        plane = proposal["value"]
        if plane not in PLANE_AXES:
            raise WidgetValueError(f"plane must be one of {', '.join(PLANE_AXES)}, got {plane!r}")
        if self._ready and plane != "axial" and self._series.shape[0] < 2:
            raise WidgetValueError(
                f"a {plane} reformat needs more than one slice; this series has one"
            )
        if self._ready and plane != "axial" and self._series.temporal:
            raise WidgetValueError(
                f"a {plane} reformat of a cine loop means nothing: its frames are moments, not "
                "slices (play it with w.cine)"
            )
        return str(plane)

    @traitlets.validate("crosshair")
    def _validate_crosshair(self, proposal: dict[str, Any]) -> tuple[int, int, int]:
        value = proposal["value"]
        if any(isinstance(v, (bool, np.bool_)) for v in value):
            raise WidgetValueError(f"crosshair must be (column, row, slice), got {value!r}")
        point = (int(value[0]), int(value[1]), int(value[2]))
        if not self._ready:
            return point
        n, rows, columns = (int(v) for v in self._series.shape[:3])
        sizes = (columns, rows, n)
        for name, v, size in zip(("column", "row", "slice"), point, sizes, strict=True):
            if not 0 <= v < size:
                raise WidgetValueError(
                    f"crosshair {name} must be in [0, {size - 1}], got {describe(v)} "
                    f"(crosshair {describe(value)})"
                )
        return point

    @traitlets.validate("slab")
    def _validate_slab(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        if isinstance(value, (bool, np.bool_)):
            raise WidgetValueError(f"slab must be a number of slices, got {value!r}")
        slab = int(value)
        if not self._ready:
            return slab
        n = self._plane_slices(self.plane)
        if not 1 <= slab <= n:
            raise WidgetValueError(
                f"slab must be in [1, {n}] slices of the {self.plane} plane, got {slab}"
            )
        if slab > 1 and self._series.is_color:
            raise WidgetValueError("a maximum intensity projection needs a grey series")
        return slab

    @contextlib.contextmanager
    def _restoring(self) -> Iterator[None]:
        """A view is being restored: its slab is taken as it is (see ``_on_plane``)."""
        self._keep_slab = True
        try:
            yield
        finally:
            self._keep_slab = False

    # The slice shown is the plane's component of the crosshair: each follows the other, and
    # another plane starts at the crosshair (in the page too, which sends them together).

    @traitlets.observe("slice")
    def _on_slice(self, change: dict[str, Any]) -> None:
        axis = _CROSSHAIR_AXIS[self.plane]
        if self.crosshair[axis] != self.slice:
            point = list(self.crosshair)
            point[axis] = self.slice
            self.crosshair = (point[0], point[1], point[2])

    @traitlets.observe("crosshair")
    def _on_crosshair(self, change: dict[str, Any]) -> None:
        k = self.crosshair[_CROSSHAIR_AXIS[self.plane]]
        if self.slice != k:
            self.slice = k

    @traitlets.observe("plane")
    def _on_plane(self, change: dict[str, Any]) -> None:
        if not self._ready:
            return
        with self.hold_sync():
            if self._keep_slab:  # a view restored (link, series switch) or the page's own
                self.slab = min(self.slab, self._plane_slices(self.plane))
            elif self.slab > 1:  # a MIP keeps its thickness in millimetres
                spacing = self._series.spacing
                old = change["old"]
                mm = self.slab * float(spacing[PLANE_AXES[old]])
                record = self._slab_record
                if record is not None and record[:2] == (old, self.slab):
                    mm = record[2]  # as chosen, not as rounded on the way (QA: it drifted)
                self.slab = _slab_for_mm(
                    mm, float(spacing[PLANE_AXES[self.plane]]), self._plane_slices(self.plane)
                )
                self._slab_record = (self.plane, self.slab, mm)
            self.slice = self.crosshair[_CROSSHAIR_AXIS[self.plane]]

    def _named_window(self, name: str) -> tuple[float, float]:
        """The window of the series' preset called ``name`` (any case): a header window
        (``"WINDOW1"``...), a modality preset (``"Lung"``, ``"Bone"``...) or the automatic one.
        Presets saved in the page are the browser's: Python does not know them."""
        windows = self._series.windows if self._ready else []
        for w in windows:
            if w.name.casefold() == name.strip().casefold():
                return (float(w.center), float(w.width))
        known = ", ".join(repr(w.name) for w in windows) or "none"
        raise WidgetValueError(
            f"window {name!r}: the series has no preset of that name (its presets: {known}); "
            "or give (center, width)"
        )

    @traitlets.validate("window")
    def _validate_window(self, proposal: dict[str, Any]) -> tuple[float, float]:
        value = proposal["value"]
        if len(value) != 2:
            raise WidgetValueError(f"window must be (center, width), got {value!r}")
        center, width = (float(v) for v in value)
        if not (math.isfinite(center) and math.isfinite(width)) or width <= 0:
            raise WidgetValueError(
                f"window must be a finite center and a positive width, got {value!r}"
            )
        if abs(center) > MAX_WINDOW_VALUE or width > MAX_WINDOW_VALUE:
            raise WidgetValueError(
                f"window values must be within ±{MAX_WINDOW_VALUE:g}, got {value!r}"
            )
        return (center, width)

    @traitlets.validate("zoom")
    def _validate_zoom(self, proposal: dict[str, Any]) -> float:
        z = float(proposal["value"])
        if not (math.isfinite(z) and MIN_ZOOM <= z <= MAX_ZOOM):
            raise WidgetValueError(
                f"zoom must be in [{MIN_ZOOM}, {MAX_ZOOM:g}] (1 = fit to the view), got {z!r}"
            )
        return z

    @traitlets.validate("pan")
    def _validate_pan(self, proposal: dict[str, Any]) -> tuple[float, float]:
        value = proposal["value"]
        if len(value) != 2:
            raise WidgetValueError(f"pan must be (x, y) in millimetres, got {value!r}")
        x, y = (float(v) for v in value)
        if not all(math.isfinite(v) and abs(v) <= MAX_PAN_MM for v in (x, y)):
            raise WidgetValueError(
                f"pan must be finite millimetres within ±{MAX_PAN_MM:g}, got {value!r}"
            )
        return (x, y)

    @traitlets.validate("cine")
    def _validate_cine(self, proposal: dict[str, Any]) -> float:
        value = proposal["value"]
        fps = float(value)
        if not (math.isfinite(fps) and 0.0 <= fps <= MAX_CINE_FPS):
            raise WidgetValueError(
                f"cine must be 0 (stopped) to {MAX_CINE_FPS:g} frames per second, got {value!r}"
            )
        return fps

    @traitlets.validate("rotation")
    def _validate_rotation(self, proposal: dict[str, Any]) -> float:
        r = float(proposal["value"])
        if not math.isfinite(r):
            raise WidgetValueError(f"rotation must be a finite number of degrees, got {r!r}")
        r = r % 360.0
        return 0.0 if r == 360.0 else r

    @traitlets.validate("flip")
    def _validate_flip(self, proposal: dict[str, Any]) -> tuple[bool, bool]:
        value = proposal["value"]
        if len(value) != 2:
            raise WidgetValueError(f"flip must be (horizontal, vertical), got {value!r}")
        return (bool(value[0]), bool(value[1]))

    @traitlets.validate("frameskip")
    def _validate_frameskip(self, proposal: dict[str, Any]) -> int:
        if isinstance(proposal["value"], (bool, np.bool_)):
            raise WidgetValueError(
                f"frameskip must be a whole number of slices, got {proposal['value']!r}"
            )
        s = int(proposal["value"])
        if not self._ready:  # the default, before the series is open
            return s
        # (any plane's: a reformat may have more slices than the series)
        top = max(1, max(self._series.shape[:3]) - 1)
        if not 1 <= s <= top:
            raise WidgetValueError(
                f"frameskip must be a whole number of slices in [1, {top}], got {s}"
            )
        return s

    # -- selection, visibility, tool and class -----------------------------------------------

    def _object_uuids(self) -> Mapping[str, Any]:
        """The objects of the labels shown, by uuid (for membership tests)."""
        labels = self._observed
        return labels.document.objects if labels is not None else {}

    @traitlets.validate("selected")
    def _validate_selected(self, proposal: dict[str, Any]) -> str | None:
        uuid = proposal["value"]
        if uuid is None or not self._ready or uuid in self._object_uuids():
            return uuid
        if self._from_page:
            return None  # (an object deleted meanwhile)
        raise WidgetValueError(f"selected: no object {describe(uuid)} in the labels shown")

    @traitlets.validate("hidden")
    def _validate_hidden(self, proposal: dict[str, Any]) -> list[str]:
        uuids = list(dict.fromkeys(proposal["value"]))
        if not self._ready:
            return uuids
        known = self._object_uuids()
        unknown = [u for u in uuids if u not in known]
        if unknown and not self._from_page:
            raise WidgetValueError(
                f"hidden: no object {', '.join(map(describe, unknown[:3]))} in the labels shown"
            )
        return [u for u in uuids if u in known]

    @traitlets.observe("hidden")
    def _hidden_changed(self, change: dict[str, Any]) -> None:
        if self.selected is not None and self.selected in change["new"]:
            self.selected = None  # as in the page: a hidden object is not selected

    @traitlets.validate("tool")
    def _validate_tool(self, proposal: dict[str, Any]) -> str:
        tool = proposal["value"]
        if tool not in TOOLS:
            raise WidgetValueError(f"tool must be one of {', '.join(TOOLS)}, got {describe(tool)}")
        shapes = TOOLS[tool]
        if shapes and self._ready:
            if self.labels.read_only:
                raise WidgetValueError(f"tool {tool!r}: the labels are read-only (review mode)")
            if not any(c.shape in shapes for c in self._ontology_of_labels().objects):
                raise WidgetValueError(
                    f"tool {tool!r} draws {' or '.join(shapes)} objects; the ontology has no "
                    "class of that shape"
                )
        return str(tool)

    @traitlets.observe("tool")
    def _tool_changed(self, change: dict[str, Any]) -> None:
        shapes = TOOLS[change["new"]]
        current = self._ontology_of_labels().find_feature(self.active_class)
        if shapes and (current is None or current.shape not in shapes):
            first = next(c for c in self._ontology_of_labels().objects if c.shape in shapes)
            self.active_class = first.id

    @traitlets.validate("active_class")
    def _validate_active_class(self, proposal: dict[str, Any]) -> str | None:
        key = proposal["value"]
        if key is None or not self._ready:
            return key
        found = self._ontology_of_labels().find_feature(key)
        if found is None:
            known = ", ".join(repr(c.id) for c in self._ontology_of_labels().objects) or "none"
            raise WidgetValueError(
                f"active_class: no object class {describe(key)} (classes: {known})"
            )
        if not any(found.shape in shapes for shapes in TOOLS.values()):
            raise WidgetValueError(f"active_class: {found.shape} objects cannot be drawn")
        return found.id

    @traitlets.observe("active_class")
    def _active_class_changed(self, change: dict[str, Any]) -> None:
        found = self._ontology_of_labels().find_feature(change["new"])
        if found is None or found.shape in TOOLS[self.tool]:
            return
        self.tool = next(t for t, shapes in TOOLS.items() if found.shape in shapes)

    @traitlets.validate("mask_opacity")
    def _validate_mask_opacity(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0.0 <= value <= 1.0:  # (NaN too)
            raise WidgetValueError(f"mask_opacity must be in [0, 1], got {describe(value)}")
        return value

    def _ontology_of_labels(self) -> Ontology:
        return self.labels.ontology if self._ready else self._ontology

    def _prune_view_objects(self) -> None:
        """Objects that went leave ``selected`` and ``hidden`` (run on every edit: lookups
        only, nothing in proportion to the document)."""
        if self.selected is None and not self.hidden:
            return
        known = self._object_uuids()
        if self.selected is not None and self.selected not in known:
            self.selected = None
        if any(u not in known for u in self.hidden):
            self.hidden = [u for u in self.hidden if u in known]

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply state from the page; refuse it whole (and say why) if any value is invalid.

        What the kernel owns is never taken from the page: ``labels_state`` (labels change
        only through edits), ``series_info`` (view links carry its series hash) and the
        widget's code."""
        owned = [k for k in _KERNEL_OWNED if k in sync_data]
        if owned:
            sync_data = {k: v for k, v in sync_data.items() if k not in owned}
            log.warning("ignored %s sent by the page (the kernel owns it)", ", ".join(owned))
            self.send_state(owned)
            if not sync_data:
                return
        try:
            self._keep_slab = "slab" in sync_data
            self._from_page = True
            super().set_state(sync_data)
        except (traitlets.TraitError, TypeError, ValueError) as exc:
            log.warning("refused a state change from the page: %s", exc)
            self.send({"type": "error", "message": f"refused a change from the page: {exc}"})
            # The page has already shown the value: send it the state that stayed.
            keys = [k for k in sync_data if k in self.keys]
            if keys:
                self.send_state(keys)
        finally:
            self._keep_slab = False
            self._from_page = False

    # -- view links ---------------------------------------------------------------------------

    @property
    def view_link(self) -> str:
        """A compact, PHI-free link to this view (series hash, plane shown, slice, slab, window,
        zoom, pan, rotation, flip, invert); give it to :meth:`goto` or
        ``DicomAnnotator(..., view=link)``."""
        info = self.series_info or {}
        return encode_view_link(
            ViewLink(
                series=str(info.get("uid_hash", "")),
                plane=str(info.get("plane", "")),
                slice=self.slice,
                window=self.window,
                zoom=self.zoom,
                pan=self.pan,
                rotation=self.rotation,
                flip=self.flip,
                invert=self.invert,
                view_plane=self.plane,
                slab=self.slab,
            )
        )

    def goto(self, link: str) -> None:
        """Restore the view of a link from :attr:`view_link` (or the page's "copy link").

        Switches to the linked series if it is one of the widget's series.

        Raises
        ------
        ValueError
            If the link is malformed, or for a series or plane this widget does not show.
        traitlets.TraitError
            If a value of the link is out of range for the series (nothing is changed then).
        """
        target = decode_view_link(link)
        index = self._find_series(target.series)
        if index is None:
            raise ValueError(
                "this view link is for a series this widget does not show "
                f"(series hash {target.series})"
            )
        plane = str(self._open(index).plane)
        if target.plane != plane:
            raise ValueError(
                f"this view link is for the {target.plane} plane; the series is {plane}"
            )
        shape = self._open(index).shape
        n = shape[PLANE_AXES[target.view_plane]]
        if not 0 <= target.slice < n:
            raise WidgetValueError(
                f"the link's slice {target.slice} is out of range (the series has {n} "
                f"{target.view_plane} slices)"
            )
        if target.view_plane != "axial" and shape[0] < 2:
            raise WidgetValueError(
                f"the link shows a {target.view_plane} reformat of a single slice"
            )
        if not 1 <= target.slab <= n:
            raise WidgetValueError(f"the link's slab {target.slab} is out of range (1 to {n})")
        if index != self.series_index:
            self.series_index = index
        point = list(self.crosshair)
        point[_CROSSHAIR_AXIS[target.view_plane]] = target.slice
        with self._restoring(), self.hold_sync(), self.hold_trait_notifications():
            self.plane = target.view_plane
            self.crosshair = (point[0], point[1], point[2])
            self.slab = target.slab
            self.slice = target.slice
            self.window = target.window
            self.zoom = target.zoom
            self.pan = target.pan
            self.rotation = target.rotation
            self.flip = target.flip
            self.invert = target.invert

    def _find_series(self, uid_hash: str) -> int | None:
        current = self.series_info.get("uid_hash") if self.series_info else None
        if current == uid_hash:
            return int(self.series_index)
        for i in range(len(self._sources)):
            try:
                if self._identity(i) == uid_hash:
                    return i
            except Exception:  # a source that cannot be opened is not the linked one
                continue
        return None

    # -- messages from the page -------------------------------------------------------------

    def _on_page_message(self, _widget: Any, content: Any, buffers: list[bytes]) -> None:
        if (
            isinstance(content, dict)
            and content.get("type") not in ANSWERED  # those are answered
            and content.get("series") != self._series_id
            and isinstance(content.get("series"), str)
            and content["series"] in {f"s{i}" for i in range(len(self._sources))}
        ):
            # a request for a series shown before a switch: stale, not an error
            log.debug("ignored a %s request for series %s", content.get("type"), content["series"])
            return
        try:
            request = parse_page_message(
                content,
                series_id=self._series_id,
                n_slices=self._series.shape[0],
                plane_slices=max(self._series.shape[:3]),
            )
        except ProtocolError as exc:
            log.warning("refused a message from the page: %s", exc)
            error: dict[str, Any] = {"type": "error", "message": str(exc)}
            if isinstance(content, dict) and content.get("type") in ANSWERED:
                n = request_number(content)
                if n is not None or content.get("type") not in ("undo", "redo"):
                    error["request"] = n
            self.send(error)
            return
        if isinstance(request, Edit):
            self._apply_edit(request)
        elif isinstance(request, (Undo, Redo)):
            self._undo_redo(request)
        elif isinstance(request, Paint):
            self._paint_from_page(request)
        elif isinstance(request, GetMasks):
            self._send_masks(request.slice)
        elif isinstance(request, Interpolate):
            self._answer(
                request.request,
                "interpolate",
                lambda: self.interpolate(request.uuids, request.start, request.end),
            )
        elif isinstance(request, Autosegment):
            self._answer(
                request.request,
                "autosegment",
                lambda: self.autosegment(request.uuid, request.slice),
            )
        elif isinstance(request, GetMetadata):
            self._send_metadata(request)
        elif isinstance(request, Ack):
            self._streamer.ack(request.count)
        elif isinstance(request, Ping):
            pass  # it arrived: that is all the page wanted to know
        elif isinstance(request, Release):
            self._release()
        elif isinstance(request, GetLabels):
            self._page_asked = True
            self.send_state("labels_state")  # the whole state, as a new view gets it
        else:
            self._send_slices(request)

    def _release(self) -> None:
        """The page let its copy of the series go (no view left): stop sending, and let the
        decoded pixels of a series the widget opened itself go too, unless another widget
        opened the same files and shows them (one given as a ``Series``, or of a ``Study``, is
        the caller's: its cache stays). A view shown again asks for the slices anew."""
        self._streamer.close()
        self._streamer = SliceStreamer(self._series, self._series_id, self._send_to_page)
        others = [w for w in _OPENERS.get(self._series, ()) if w is not self]
        owned = not isinstance(self._sources[int(self.series_index)], (Series, _StudySeries))
        if owned and not others:
            freed = self._series.release()
            log.debug("no view left: decoded pixels %s", "let go" if freed else "kept")

    def _refuse_edit(self, message: str, request: int | None, *, notice: bool = False) -> None:
        """Answer an edit with an error (``notice``: no fault, e.g. nothing to undo; the page
        shows it briefly instead of as an error) and send the labels again."""
        if not notice:
            log.warning("refused a label edit from the page: %s", message)
        error: dict[str, Any] = {"type": "error", "message": message}
        if notice:
            error["notice"] = True
        if request is not None:
            error["request"] = request
        self.send(error)
        # the page may have shown the edit optimistically: send Python's state again (also
        # when unchanged, which assigning the trait alone would not)
        before = self.labels_state
        self._sync_labels_state()
        if self.labels_state == before:
            self.send_state("labels_state")

    def _apply_edit(self, request: Edit) -> None:
        try:
            revision = self.labels.apply(request.op)
        except LabelError as exc:
            self._refuse_edit(f"edit refused: {exc}", request.request)
            return
        except Exception as exc:  # a malformed op the checks missed: refuse, keep the labels
            log.exception("label edit %r failed", request.op)
            self._refuse_edit(f"edit refused: {type(exc).__name__}: {exc}", request.request)
            return
        self.send({"type": "edit_ack", "request": request.request, "revision": revision})

    def _answer(self, request: int, kind: str, run: Callable[[], int]) -> None:
        """Run one edit for the page and answer ``edit_ack`` or ``error``."""
        try:
            revision = run()
        except (LabelError, ProtocolError) as exc:
            self._refuse_edit(f"{kind} refused: {exc}", request)
            return
        except Exception as exc:  # a failure the checks missed: refuse, keep the labels
            log.exception("%s failed", kind)
            self._refuse_edit(f"{kind} refused: {type(exc).__name__}: {exc}", request)
            return
        self.send({"type": "edit_ack", "request": request, "revision": revision})

    def _paint_from_page(self, request: Paint) -> None:
        """``paint``: commit the strokes, send the changed region (``masks``), then ack.

        The patch goes out before the labels' echo (held until then): a page that sees the new
        revision with the patch already in its cache has the slice's masks current and does
        not ask for them again (``get_masks``), which would cost the kernel a whole-slice
        answer and the page a redraw while the acknowledgement waits."""
        with self.hold_labels(), self.hold_sync():
            try:
                result = masks.paint(
                    self.labels,
                    self._series,
                    request.uuid,
                    request.slice,
                    request.strokes,
                    request.feature,
                    request.plane,
                    overwrite=request.overwrite,
                )
            except LabelError as exc:  # (its text starts "paint: ...")
                self._refuse_edit(
                    f"paint refused: {str(exc).removeprefix('paint: ')}", request.request
                )
                return
            except Exception as exc:  # a failure the checks missed: refuse, keep the labels
                log.exception("paint failed")
                self._refuse_edit(f"paint refused: {type(exc).__name__}: {exc}", request.request)
                return
            self._send_paint_patches(result, request.plane, request.slice)
        self.send({"type": "edit_ack", "request": request.request, "revision": result.revision})
        if not result.changed:
            self.send({"type": "error", "message": PAINT_CHANGED_NOTHING, "notice": True})

    def _send_paint_patches(self, result: masks.PaintResult, plane: str, k: int) -> None:
        """The ``masks`` patches of a paint (call it while the labels are held, so that they
        reach the page before the new revision and it need not ask for the slices again)."""
        by_slice: dict[int, list[masks.MaskItem]] = {}
        for z, item in result.patches:  # (the objects an overwrite took pixels from too)
            by_slice.setdefault(z, []).append(item)
        patches = list(by_slice.items())
        if plane == "axial" and not patches:
            # the slice's masks are current at this revision all the same (a polygon's
            # outline comes with the labels), so the page need not ask for them again
            patches = [(k, [])]
        for z, items in patches:
            content, buffers = masks.masks_message(self._series_id, z, result.revision, items)
            self.send(content, buffers=buffers)

    def _send_masks(self, k: int) -> None:
        """``get_masks``: every bitmask object's whole mask on slice ``k``."""
        labels = self.labels
        with labels._lock:
            items = masks.slice_masks(labels, k)
            revision = labels.revision
        content, buffers = masks.masks_message(self._series_id, k, revision, items)
        self.send(content, buffers=buffers)

    def _undo_redo(self, request: Undo | Redo) -> None:
        kind = "undo" if isinstance(request, Undo) else "redo"
        labels = self.labels
        try:
            revision = labels.undo() if kind == "undo" else labels.redo()
        except LabelError as exc:
            self._refuse_edit(f"{kind} refused: {exc}", request.request)
            return
        if revision is None:
            self._refuse_edit(f"{kind}: nothing to {kind}", request.request, notice=True)
            return
        if request.request is not None:
            self.send({"type": "edit_ack", "request": request.request, "revision": revision})

    def _send_metadata(self, request: GetMetadata) -> None:
        k = request.slice
        try:
            tree = self._series.slice_metadata(k)
        except Exception as exc:  # unreadable metadata must not break the widget
            message = f"metadata of slice {k} could not be read: {exc}"
            self.send({"type": "error", "message": message})
            return
        elements = _note_substitutions(_metadata_elements(tree), self._series.uid_substitutions)
        self.send(
            {
                "type": "metadata",
                "series": self._series_id,
                "slice": k,
                "elements": _json_safe(elements),
            }
        )

    def _send_slices(self, request: GetSlices) -> None:
        self._streamer.request(request.slices, hold=request.hold)

    # -- bitmasks, interpolation, auto-segmentation ----------------------------------------

    def _check_slice(
        self, slice: int, what: str, n: int | None = None, has: str = "its largest plane has"
    ) -> int:
        """``slice`` as an int in ``[0, n)`` (default: the series' own slices; given: e.g. the
        most slices any plane of the series has, as ``has`` says)."""
        if isinstance(slice, bool) or not isinstance(slice, (int, np.integer)):
            raise TypeError(f"{what}: slice must be an integer, got {type(slice).__name__}")
        if n is None:
            n, has = self._series.shape[0], "the series has"
        if not 0 <= int(slice) < n:
            raise LabelError(f"{what}: slice {slice} is out of range ({has} {n} slices)")
        return int(slice)

    def paint(
        self,
        uuid: str,
        slice: int,
        strokes: Sequence[dict[str, Any]],
        feature: str | None = None,
        *,
        plane: str = "axial",
        overwrite: bool | None = None,
    ) -> int:
        """Paint brush strokes into a bitmask (or polygon) object on one slice: one edit.

        The same code path as the page's ``paint`` message, so a stroke gives the same mask
        from Python and from the page.

        Parameters
        ----------
        uuid
            A bitmask object; a polygon object (its outline on ``slice`` is rasterised,
            painted and traced back, keeping the uuid); or the uuid of a new bitmask object
            of ``feature`` (e.g. ``str(uuid.uuid4())``).
        slice
            Slice index (of the series shown) in ``plane``.
        strokes
            Applied in order; each ``{"tool": "brush" | "eraser" | "threshold", "radius": r,
            "points": [(x, y), ...], "range": (lo, hi)}``: ``radius`` in column pixels (0 < r
            <= 512), points in voxel coordinates (column, row; pixel centres at integers),
            ``range`` (threshold only) inclusive, in modality units (HU for CT). A voxel is
            covered when its distance to the stroke's polyline, in millimetres, is at most
            ``radius`` columns' width (see :mod:`dicom_annot_widget.kernels.brush`): round in
            millimetres on every plane, also on slices of non-square pixels.
        feature
            Bitmask class (id, name or hotkey) of a new object.
        plane
            ``"axial"`` (the series' own slices, default), ``"coronal"`` or ``"sagittal"``:
            the reformat ``slice`` and the points are in (as
            :func:`~dicom_annot_widget.kernels.plane_image` gives it: one row per slice).
            Bitmask objects stay masks of the series' own slices: a stroke on a reformat
            edits one row (coronal) or column (sagittal) of each slice it reaches, as one
            edit. There the brush is round in millimetres: ``radius`` is in the image's
            column pixels, and reaches ``radius * column spacing / slice spacing`` slices up
            and down; the object's interpolated keyframes become manual as they are, so
            that nothing but the stroke changes. A polygon is painted in its own plane only.
        overwrite
            The pixels a bitmask object gains leave the other bitmask objects there, in the
            same edit (one undo), so that each voxel belongs to one object; None (default):
            :attr:`mask_overwrite`.

        Returns
        -------
        int
            The labels' revision after the edit (unchanged when the strokes changed nothing).
            A slice painted empty loses its keyframe; an object without keyframes is deleted.

        Raises
        ------
        ProtocolError
            A malformed stroke (the message names the stroke and field).
        WidgetValueError
            A plane other than axial, coronal or sagittal.
        LabelError
            Unknown object without a bitmask ``feature``, an object of another shape, a slice
            out of range, read-only labels.
        """
        return self._paint("paint", uuid, slice, strokes, feature, plane, overwrite)

    def _paint(
        self,
        what: str,
        uuid: str,
        slice: int,
        strokes: Any,
        feature: str | None,
        plane: str,
        overwrite: bool | None = None,
    ) -> int:
        """:meth:`paint`, its errors named ``what`` (the method the user called)."""
        if overwrite is None:
            overwrite = self.mask_overwrite
        elif not isinstance(overwrite, (bool, np.bool_)):
            raise WidgetValueError(
                f"{what}: overwrite must be True, False or None, got {describe(overwrite)}"
            )
        if plane not in PLANE_AXES:
            raise WidgetValueError(
                f"{what}: plane must be one of {', '.join(PLANE_AXES)}, got {describe(plane)}"
            )
        where = "the series has" if plane == "axial" else f"the {plane} plane has"
        k = self._check_slice(slice, what, self._plane_slices(plane), where)
        if isinstance(strokes, dict):
            strokes = [strokes]
        plain = [
            {**s, "points": self._points(s["points"])}
            if isinstance(s, dict) and "points" in s and not isinstance(s["points"], list)
            else s
            for s in strokes
        ]
        parsed = parse_strokes(plain)
        if not isinstance(uuid, str) or not uuid:
            raise TypeError(f"{what}: uuid must be a non-empty string, got {uuid!r}")
        with self.hold_labels(), self.hold_sync():
            result = masks.paint(
                self.labels, self._series, uuid, k, parsed, feature, plane, what, bool(overwrite)
            )
            if result.changed:  # the page gets the patches as for its own strokes
                self._send_paint_patches(result, plane, k)
        if not result.changed:
            where = f"slice {k}" if plane == "axial" else f"{plane} slice {k}"
            warnings.warn(
                f"{what}: the strokes changed nothing on {where} (they lie outside the image, "
                "on pixels already so, or no pixel is in the threshold range)",
                DicomAnnotWarning,
                stacklevel=3 if what == "paint" else 4,  # the user's call (via _paint_one)
            )
        return result.revision

    @staticmethod
    def _points(points: Any) -> list[list[float]]:
        try:
            array = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            array = np.zeros((0, 3))
        if array.shape == (2,):
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
            raise TypeError(
                f"points must be one (x, y) point or an (N, 2) array of them, got {points!r}"
            )
        return array.tolist()

    def brush(
        self,
        uuid: str,
        slice: int,
        points: Any,
        radius: float,
        feature: str | None = None,
        *,
        plane: str = "axial",
        overwrite: bool | None = None,
    ) -> int:
        """Paint one brush stroke (discs of ``radius`` voxels along ``points``, an (N, 2)
        array of ``(x, y)`` or one point) on ``slice`` of ``plane``; see :meth:`paint` (and
        there ``overwrite``). Returns the revision. A bad ``radius`` or point raises
        :class:`WidgetValueError` naming it (as :meth:`erase` and :meth:`threshold_brush`
        do)."""
        stroke = {"tool": "brush", "radius": radius, "points": self._points(points)}
        return self._paint_one("brush", uuid, slice, stroke, feature, plane, overwrite)

    def _paint_one(
        self,
        name: str,
        uuid: str,
        slice: int,
        stroke: dict[str, Any],
        feature: str | None,
        plane: str,
        overwrite: bool | None = None,
    ) -> int:
        """:meth:`paint` of one stroke for :meth:`brush`, :meth:`erase` and
        :meth:`threshold_brush`: the stroke is checked first under the caller's name, so a
        bad argument is named as the caller wrote it, not as a field of the page's message
        (QA 22b: "ProtocolError: paint: strokes[0]: radius")."""
        try:
            parse_stroke(stroke, name)
        except ProtocolError as exc:
            raise WidgetValueError(str(exc)) from None
        return self._paint(name, uuid, slice, [stroke], feature, plane, overwrite)

    def erase(
        self, uuid: str, slice: int, points: Any, radius: float, *, plane: str = "axial"
    ) -> int:
        """Erase along one stroke (discs of ``radius`` voxels along ``points``) from a bitmask
        or polygon object on ``slice`` of ``plane``; see :meth:`paint`. Returns the
        revision."""
        stroke = {"tool": "eraser", "radius": radius, "points": self._points(points)}
        return self._paint_one("erase", uuid, slice, stroke, None, plane)

    def threshold_brush(
        self,
        uuid: str,
        slice: int,
        points: Any,
        radius: float,
        range: Sequence[float],
        feature: str | None = None,
        *,
        plane: str = "axial",
        overwrite: bool | None = None,
    ) -> int:
        """Paint the voxels of one stroke whose value lies in ``range = (lo, hi)`` (inclusive,
        modality units: HU for CT, the values of ``w.series.get_slice(slice)``, or on a
        reformat of ``plane_image(w.series.array, plane, slice)``); see :meth:`paint` (and
        there ``overwrite``). Returns the revision."""
        if (
            not isinstance(range, (Sequence, np.ndarray))
            or isinstance(range, (str, bytes))
            or len(range) != 2
        ):
            raise TypeError(f"threshold_brush: range must be (lo, hi), got {range!r}")
        try:
            lo, hi = float(range[0]), float(range[1])
        except (TypeError, ValueError):
            raise TypeError(
                f"threshold_brush: range must be two numbers (lo, hi), got {range!r}"
            ) from None
        stroke = {
            "tool": "threshold",
            "radius": radius,
            "points": self._points(points),
            "range": [lo, hi],
        }
        return self._paint_one("threshold_brush", uuid, slice, stroke, feature, plane, overwrite)

    def interpolate(
        self,
        objects: Any = None,
        start: int | None = None,
        end: int | None = None,
    ) -> int:
        """Interpolate the tracks of ``objects`` (a uuid or ``LabelObject``, or several; None:
        every object with at least two manual keyframes) between slices ``start`` and ``end``
        (None: open; slices of each object's plane, so a reformat's slices too); derived
        keyframes are marked ``manual: false``. One edit; returns the revision.

        Same as the page's "Automated labeling" drawer. See ``Labels.interpolate``.
        """
        # (the labels check start and end against each object's own plane: a check here
        # against the series' largest plane named that plane, QA 24a)
        return int(self.labels.interpolate(objects=objects, start=start, end=end))

    def autosegment(self, uuid: str, slice: int) -> int:
        """Tighten the polygon of object ``uuid`` on ``slice`` to the edges of the structure
        it encloses (watershed in a band around the outline, see
        :func:`dicom_annot_widget.kernels.autoseg.refine_polygon`). One edit; returns the
        revision. ``slice`` is a slice of the object's plane (a reformat's too)."""
        if isinstance(slice, bool) or not isinstance(slice, (int, np.integer)):
            raise TypeError(f"autosegment: slice must be an integer, got {type(slice).__name__}")
        return masks.autosegment(self.labels, self._series, uuid, int(slice))

    def export_nifti(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        by: str = "class",
        objects: Sequence[str | int] | None = None,
        include_pending: bool = False,
        allow_irregular_slices: bool = False,
    ) -> tuple[Any, Any]:
        """The labels of the series shown as a NIfTI label map on the series' grid, written to
        ``path`` (``.nii`` / ``.nii.gz``) when given. Returns ``(nibabel.Nifti1Image,
        Legend)``; see :func:`dicom_annot_widget.export.to_nifti` for the options and rules
        (overlaps, shapes without an area, series whose slices are not evenly spaced)."""
        return to_nifti(
            self.labels,
            self._series,
            path,
            by=by,
            objects=objects,
            include_pending=include_pending,
            allow_irregular_slices=allow_irregular_slices,
        )

    def export_seg(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        by: str = "class",
        objects: Sequence[str | int] | None = None,
        include_pending: bool = False,
        **options: Any,
    ) -> tuple[Any, Any]:
        """The labels of the series shown as a DICOM Segmentation (BINARY) referencing the
        series' images, written to ``path`` when given. Returns ``(highdicom Segmentation,
        Legend)``. ``options`` go to :func:`dicom_annot_widget.export.to_dicom_seg`
        (``codes``, ``series_description``, ``series_number``, ...). A series not read from
        DICOM files cannot be exported this way (use :meth:`export_nifti`)."""
        return to_dicom_seg(
            self.labels,
            self._series,
            path,
            by=by,
            objects=objects,
            include_pending=include_pending,
            **options,
        )

    def import_nifti(self, source: Any, **options: Any) -> list[str]:
        """Import a NIfTI label map on the series shown as bitmask objects (one per label
        value, one edit); returns their uuids. ``options`` go to
        :func:`dicom_annot_widget.export.from_nifti` (``classes``, ``legend``,
        ``source_name`` for pending predictions, ``confidence``, ``ignore_unlisted``,
        ``allow_irregular_slices``)."""
        return from_nifti(self.labels, self._series, source, **options)

    def import_seg(self, source: Any, **options: Any) -> list[str]:
        """Import a DICOM SEG of the series shown as bitmask objects (one per segment, one
        edit); returns their uuids. ``options`` go to
        :func:`dicom_annot_widget.export.from_dicom_seg` (``classes``, ``source_name``,
        ``confidence``, ``ignore_unlisted``)."""
        return from_dicom_seg(self.labels, self._series, source, **options)

    def close(self) -> None:
        """Close the widget and stop streaming (the series stays open for the caller).

        Labels the widget opened from ``label_path`` are closed (a final snapshot is written);
        labels given as ``labels=`` stay open for the caller."""
        streamer = getattr(self, "_streamer", None)  # absent if __init__ failed early
        if streamer is not None:
            streamer.close()
        observed = getattr(self, "_observed", None)
        if observed is not None:
            with contextlib.suppress(LabelError):
                observed.unobserve(self._on_labels_change)
            with contextlib.suppress(ValueError):
                observed._mode_observers.remove(self._on_labels_mode)
            self._observed = None
        for owned in getattr(self, "_owned_labels", []):
            owned.close()
        for opened in getattr(self, "_opened", {}).values():
            _OPENERS.get(opened, weakref.WeakSet()).discard(self)
        super().close()
