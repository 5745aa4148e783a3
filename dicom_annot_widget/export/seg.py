"""Labels -> a DICOM Segmentation (SEG) instance, with highdicom."""

from __future__ import annotations

import math
import os
import re
import unicodedata
import uuid as uuid_module
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from pydicom import DataElement, Dataset
from pydicom.multival import MultiValue
from pydicom.sr.coding import Code
from pydicom.tag import Tag
from pydicom.uid import generate_uid

from ..errors import DicomAnnotWarning, caller_stacklevel
from ..io import Series
from ..labels import Labels, ObjectClass, Ontology
from ._legend import Legend, LegendEntry, check_by, group_objects
from ._series import check_distinct_positions, check_output_path, check_series
from .masks import ExportError, object_slice_masks, select_objects

__all__ = [
    "DEFAULT_CATEGORY",
    "DEFAULT_TYPE",
    "LO_MAX_BYTES",
    "SPECIFIC_CHARACTER_SET",
    "class_segment_labels",
    "label_key",
    "lo_value",
    "object_segment_label",
    "to_dicom_seg",
]

#: Segmented property category used when no code is given: SNOMED CT 85756007 "Tissue".
DEFAULT_CATEGORY = Code("85756007", "SCT", "Tissue")
#: Segmented property type used when no code is given: SNOMED CT 85756007 "Tissue".
DEFAULT_TYPE = Code("85756007", "SCT", "Tissue")

#: The character set of every SEG written: UTF-8, so that any class name (and the source's
#: patient and study text, whatever its character set) is kept as it is.
SPECIFIC_CHARACTER_SET = "ISO_IR 192"
#: Longest LO (Long String) value, counted in bytes of its UTF-8 encoding: PS3.5 allows 64
#: characters; 64 bytes satisfies that and validators that count bytes (dciodvfy).
LO_MAX_BYTES = 64

# What highdicom needs from every source image, beyond pixels.
_REQUIRED = (
    "Rows",
    "Columns",
    "FrameOfReferenceUID",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
)
# Type-1 UIDs io may have substituted; the substitute from the Series is used.
_UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")
# Type 2 patient and study attributes the SEG copies from its source images: present but
# possibly empty. De-identification tools often remove them, which highdicom cannot take.
_TYPE2_COPIED = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "StudyID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
)


def _source_datasets(series: Series) -> list[Dataset]:
    """Header datasets of the series' slices, in slice order."""
    if any(f is not None for f in series.slice_frames):
        raise ExportError(
            "series: DICOM SEG export of multi-frame (enhanced) source images is not supported "
            "yet; only single-frame series (one file per slice)"
        )
    datasets = [series.slice_dataset(k) for k in range(len(series))]
    if any(ds is None for ds in datasets):
        raise ExportError(
            f"series: it was not read from DICOM files ({series.source or 'unknown source'}), "
            "so there are no source images for a DICOM SEG to reference; export NIfTI "
            "instead (to_nifti)"
        )
    out = [ds for ds in datasets if ds is not None]
    return out


def _prepare_sources(series: Series, datasets: list[Dataset]) -> tuple[list[Dataset], list[str]]:
    """Copies of the headers with io's UID substitutions filled in; also the substituted
    keywords. Missing geometry is an error naming the attribute."""
    missing: dict[str, list[int]] = {}
    unusable: dict[tuple[str, str], list[int]] = {}
    for k, ds in enumerate(datasets):
        for keyword in _REQUIRED:
            if ds.get(keyword) in (None, "", []):
                missing.setdefault(keyword, []).append(k)
            elif (why := _unusable(keyword, ds.get(keyword))) is not None:
                unusable.setdefault((keyword, why), []).append(k)

    def slices(ks: list[int]) -> str:
        more = "..." if len(ks) > 5 else ""
        return f"slice{'s' if len(ks) > 1 else ''} {', '.join(map(str, ks[:5]))}{more}"

    if missing:
        parts = [f"{kw} ({slices(ks)})" for kw, ks in missing.items()]
        raise ExportError(
            "series: a DICOM SEG needs these attributes in every source image, missing: "
            + "; ".join(parts)
        )
    if unusable:
        # (QA 24b D6: a one-value PixelSpacing or a two-value position crashed in highdicom,
        # and a zero spacing went into a SEG that validators reject)
        parts = [f"{kw} {why} ({slices(ks)})" for (kw, why), ks in unusable.items()]
        raise ExportError(
            "series: a DICOM SEG needs usable geometry in every source image: " + "; ".join(parts)
        )
    if not series.orientation_known:
        raise ExportError("series: the images have no ImageOrientationPatient")
    substitutes = {
        "StudyInstanceUID": [series.study_instance_uid] * len(datasets),
        "SeriesInstanceUID": [series.series_instance_uid] * len(datasets),
        "SOPInstanceUID": series.sop_instance_uids,
        "SOPClassUID": [series.sop_class_uid] * len(datasets),
    }
    used: set[str] = set()
    out: list[Dataset] = []
    for k, ds in enumerate(datasets):
        # A new dataset sharing the elements: the reader's headers must stay as read, so
        # substituted UIDs get new elements instead of edits of the shared ones.
        copy = Dataset()
        copy.update(ds)
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            copy.file_meta = meta
        for keyword in _UID_KEYWORDS:
            if ds.get(keyword) in (None, ""):
                value = substitutes[keyword][k] if k < len(substitutes[keyword]) else ""
                if not value:
                    raise ExportError(f"series: slice {k} has no {keyword}")
                tag = Tag(keyword)
                copy[tag] = DataElement(tag, "UI", value)
                used.add(keyword)
        for keyword in _TYPE2_COPIED:
            if keyword not in ds:
                setattr(copy, keyword, "")  # empty, as a type 2 attribute may be
        if ds.get("SliceThickness") in (None, ""):  # the SEG's pixel measures need one
            copy.SliceThickness = f"{series.spacing[0]:.6g}"
            used.add("SliceThickness")
        out.append(copy)
    return out, sorted(used)


def _numbers(value: Any) -> list[float] | None:
    """The values of a multi-valued DS element as floats (None: not numbers)."""
    items = list(value) if isinstance(value, (list, tuple, MultiValue)) else [value]
    try:
        return [float(v) for v in items]
    except (TypeError, ValueError):
        return None


def _unusable(keyword: str, value: Any) -> str | None:
    """Why a present geometry attribute cannot go into a SEG (its value named), or None."""
    if keyword not in ("PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient"):
        return None
    numbers = _numbers(value)
    shown = (
        "\\".join(str(v) for v in value) if isinstance(value, (list, MultiValue)) else str(value)
    )
    count = {"PixelSpacing": 2, "ImagePositionPatient": 3, "ImageOrientationPatient": 6}[keyword]
    if numbers is None or len(numbers) != count or not all(math.isfinite(v) for v in numbers):
        return f"'{shown}' is not {count} numbers"
    if keyword == "PixelSpacing" and min(numbers) <= 0:
        return f"'{shown}' is not two positive numbers"
    if keyword == "ImageOrientationPatient":
        row, column = np.asarray(numbers[:3]), np.asarray(numbers[3:])
        unit = abs(np.linalg.norm(row) - 1) < 1e-3 and abs(np.linalg.norm(column) - 1) < 1e-3
        if not unit or abs(float(row @ column)) > 1e-3:
            return f"'{shown}' is not two orthogonal unit vectors"
    return None


#: ContentLabel is a CS value: upper-case letters, digits, space and underscore, 1 to 16
_CS_LABEL = re.compile(r"[A-Z0-9_ ]{1,16}")


def _check_written_values(description: Any, number: Any, content_label: Any, creator: Any) -> None:
    """The SEG's own attributes, checked before any mask is computed (QA 24b D12: highdicom
    refused a content label after all the work, naming neither the argument nor the value)."""
    if not isinstance(description, str):
        raise TypeError(f"series_description: expected a string, got {type(description).__name__}")
    if (
        isinstance(number, bool)
        or not isinstance(number, (int, np.integer))
        or not (1 <= int(number) <= 2**31 - 1)
    ):
        raise ExportError(f"series_number: expected a positive integer (IS), got {number!r}")
    if not isinstance(content_label, str) or not _CS_LABEL.fullmatch(content_label):
        raise ExportError(
            f"content_label: {content_label!r} is not a DICOM code string (CS): 1 to 16 "
            "upper-case letters, digits, spaces or underscores, e.g. "
            f"{re.sub(r'[^A-Z0-9_ ]', '_', str(content_label).upper())[:16] or 'SEGMENTATION'!r}"
        )
    if creator is not None and not isinstance(creator, str):
        raise TypeError(f"content_creator_name: expected a string, got {type(creator).__name__}")


#: AlgorithmVersion of a model whose version the labels do not record (Type 1: never empty)
_VERSION_NOT_RECORDED = "not recorded"


def _algorithm(labels: Labels, uuids: Sequence[str]) -> dict[str, Any]:
    """SegmentAlgorithmType and AlgorithmIdentificationSequence of one segment's objects.

    MANUAL when people drew every keyframe; AUTOMATIC when all are model predictions as the
    model made them (the model is the algorithm: its name is the object's ``source``);
    SEMIAUTOMATIC for a mix, for a prediction a person edited (:attr:`LabelObject.edited`),
    or when keyframes were interpolated (this package's interpolation is then named)."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    from .. import __version__

    models: set[str] = set()
    people = derived = False
    for uuid in uuids:
        obj = labels.get(uuid)
        if obj.is_prediction:
            models.add(obj.source)
            people = people or obj.edited
        else:
            people = True
            derived = derived or obj.source != "manual"
        derived = derived or any(not kf.manual for kf in obj.keyframes.values())
    types = hd.seg.SegmentAlgorithmTypeValues
    if not models and not derived:
        return {"algorithm_type": types.MANUAL}
    names = sorted(models) + (["dicom_annot_widget interpolation"] if derived else [])
    automatic = models and not people and not derived
    return {
        "algorithm_type": types.AUTOMATIC if automatic else types.SEMIAUTOMATIC,
        "algorithm_identification": hd.AlgorithmIdentificationSequence(
            name=lo_value(", ".join(names)),
            family=(
                codes.cid7162.ArtificialIntelligence
                if models
                else codes.cid7162.MorphologicalOperations
            ),
            version=_VERSION_NOT_RECORDED if models else lo_value(__version__),
        ),
    }


def _coded(value: Any, what: str) -> Any:
    from highdicom.sr import CodedConcept

    if isinstance(value, (Code, CodedConcept)):
        return value
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 3:
        code, scheme, meaning = value
        if all(isinstance(v, str) and v for v in (code, scheme, meaning)):
            return Code(code, scheme, meaning)
    raise ExportError(
        f"{what}: expected a pydicom Code, a highdicom CodedConcept or a (value, scheme, "
        f"meaning) tuple of strings, got {value!r}"
    )


def _codes_for(cls: ObjectClass, codes: Mapping[str, Any] | None) -> tuple[Any, Any]:
    if codes is None:
        return DEFAULT_CATEGORY, DEFAULT_TYPE
    given = codes.get(cls.id, codes.get(cls.name))
    if given is None:
        return DEFAULT_CATEGORY, DEFAULT_TYPE
    if isinstance(given, Mapping):
        category, kind = given.get("category"), given.get("type")
    elif isinstance(given, Sequence) and not isinstance(given, str) and len(given) == 2:
        category, kind = given
    else:
        raise ExportError(
            f"codes[{cls.id!r}]: expected (category, type) or "
            f"{{'category': ..., 'type': ...}}, got {given!r}"
        )
    return (
        _coded(category, f"codes[{cls.id!r}] category"),
        _coded(kind, f"codes[{cls.id!r}] type"),
    )


def _tracking_uid(object_uuid: str) -> str:
    """The DICOM UID form of a UUID (``2.25.<integer>``, PS3.5 B.2)."""
    return f"2.25.{uuid_module.UUID(object_uuid).int}"


def _cut(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8, at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore").rstrip()


def lo_value(text: str, max_bytes: int = LO_MAX_BYTES) -> str:
    """``text`` as one valid DICOM LO value (in UTF-8).

    A backslash (the DICOM value delimiter) becomes ``/``; control characters, line and
    paragraph separators become a space when they are whitespace (tab, newline...) and
    U+FFFD (the replacement character) otherwise; leading and trailing spaces (not
    significant in LO) are dropped; the result is cut to ``max_bytes`` bytes.
    """
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch == "\\":
            out.append("/")
        elif category in ("Cc", "Zl", "Zp", "Cs"):
            out.append(" " if ch.isspace() else "\ufffd")
        else:
            out.append(ch)
    return _cut("".join(out).strip(" "), max_bytes)


def label_key(text: str) -> str:
    """How segment labels are compared: case-insensitive, runs of whitespace as one space."""
    return " ".join(text.split()).casefold()


def class_segment_labels(ontology: Ontology) -> tuple[dict[str, str], dict[str, str]]:
    """The segment label of every object class (``by="class"``), and the clashes.

    The label is the class name made a valid LO value (:func:`lo_value`). When that is empty
    or equals (by :func:`label_key`) the label of a class earlier in the ontology (names cut
    to 64 bytes, or differing only in case, backslash or control characters), the class id
    is the label instead. Computed over the whole ontology, so a class keeps its label
    whatever is exported, and the import finds it back.

    Returns
    -------
    (labels, clashes)
        ``class id -> label``, and ``class id -> id of the earlier class`` for classes whose
        id cannot stand in either (too long, or also taken); their label is the name's.
    """
    labels: dict[str, str] = {}
    clashes: dict[str, str] = {}
    used: dict[str, str] = {}
    for cls in ontology.objects:
        label = lo_value(cls.name)
        if not label or label_key(label) in used:
            other = used.get(label_key(label), "")
            if lo_value(cls.id) == cls.id and label_key(cls.id) not in used:
                label = cls.id
            else:
                clashes[cls.id] = other or used.get(label_key(cls.id), "")
                label = label or _cut(cls.id, LO_MAX_BYTES)
        used.setdefault(label_key(label), cls.id)
        labels[cls.id] = label
    return labels, clashes


def object_segment_label(class_label: str, object_id: int) -> str:
    """The segment label of one object (``by="object"``): ``"<class label> <object_id>"``,
    the class label cut so that the whole fits an LO value (the object number is kept)."""
    suffix = f" {object_id}"
    return _cut(class_label, LO_MAX_BYTES - len(suffix)) + suffix


def _segment_labels(labels: Labels, entries: Sequence[LegendEntry], by: str) -> list[str]:
    """Valid, unique LO segment labels of the entries (see :func:`class_segment_labels`)."""
    by_class, clashes = class_segment_labels(labels.ontology)
    out = []
    for entry in entries:
        if by == "object":
            out.append(object_segment_label(by_class[entry.feature], entry.object_ids[0]))
            continue
        if entry.feature in clashes:
            other = labels.ontology.find_feature(clashes[entry.feature])
            same = f"the same as that of {other.name!r}" if other is not None else "empty"
            raise ExportError(
                f"object class {entry.name!r} (id {entry.feature!r}): its DICOM segment label "
                f"would be {by_class[entry.feature]!r}, {same} (segment labels are at most "
                f"{LO_MAX_BYTES} bytes, without backslashes or control characters, and are "
                "compared case-insensitively), and its id cannot stand in (longer than that, "
                'or taken); rename the class, or export by="object"'
            )
        out.append(by_class[entry.feature])
    return out


def available_memory() -> int | None:
    """Bytes of memory this machine can still give (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fp:
            for line in fp:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _size(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB" if nbytes >= 1e9 else f"{nbytes / 1e6:.1f} MB"


def _check_room(groups: list[tuple[LegendEntry, list[Any]]], shape: tuple[int, int, int]) -> None:
    """Overlapping segments need a boolean volume each: refuse what this machine cannot hold,
    before trying (QA 22a: 600 objects by object needed 47 GB; the kernel was killed)."""
    per_segment = int(np.prod(shape))
    need = per_segment * len(groups)
    free = available_memory()
    if free is None or need <= free // 2:
        return
    most = max(1, free // 2 // per_segment)
    raise ExportError(
        f"some of the {len(groups)} segments overlap, so each needs a volume of "
        f"its own in the SEG ({shape[0]} x {shape[1]} x {shape[2]} voxels, "
        f"{_size(need)} in all), and this machine has {_size(free)} available; "
        f"export fewer objects at a time (objects=[...]): at most {most} segments fit"
    )


def _segment_pixels(
    labels: Labels, groups: list[tuple[LegendEntry, list[Any]]], shape: tuple[int, int, int]
) -> np.ndarray:
    """What highdicom gets: a label map ``(frames, rows, columns)`` of segment numbers when no
    two segments overlap (one byte per voxel), else one boolean plane per segment
    ``(frames, rows, columns, segments)``, made once (not stacked from copies)."""
    dtype = np.uint8 if len(groups) <= np.iinfo(np.uint8).max else np.uint16
    label_map: np.ndarray | None = np.zeros(shape, dtype=dtype)
    out: np.ndarray | None = None
    for i, (entry, members) in enumerate(groups):
        # the segment's slices only (a full volume per object cost minutes with thousands)
        planes: dict[int, np.ndarray] = {}
        for obj in members:
            for k, m in object_slice_masks(labels, obj):
                planes[k] = planes[k] | m if k in planes else m
        if label_map is not None and any((label_map[k][m] != 0).any() for k, m in planes.items()):
            _check_room(groups, shape)
            out = np.zeros((*shape, len(groups)), dtype=np.bool_)
            for j, (e, _) in enumerate(groups[:i]):
                out[..., j] = label_map == e.value
            label_map = None
        if out is not None:
            for k, m in planes.items():
                out[k, :, :, i] = m
        else:
            assert label_map is not None
            for k, m in planes.items():
                label_map[k][m] = entry.value
    if out is None:
        assert label_map is not None
        return label_map
    return out


def to_dicom_seg(
    labels: Labels,
    series: Series,
    path: str | os.PathLike[str] | None = None,
    *,
    by: str = "class",
    objects: Iterable[Any] | None = None,
    include_pending: bool = False,
    codes: Mapping[str, Any] | None = None,
    series_description: str = "Segmentation",
    series_number: int = 300,
    content_label: str = "SEGMENTATION",
    content_creator_name: str | None = None,
) -> tuple[Any, Legend]:
    """Export labels as a DICOM Segmentation (BINARY) referencing the series' images.

    Parameters
    ----------
    labels
        The labels of ``series``.
    series
        A series opened from single-frame DICOM files; its slice headers are the source
        images (their patient, study and frame of reference are copied into the SEG by
        highdicom, nothing else is added).
    path
        Write the SEG here too.
    by
        ``"class"``: one segment per object class (union of its objects, ontology order);
        ``"object"``: one segment per object (object_id order; TrackingID ``"object <id>"``,
        TrackingUID derived from the object uuid as ``2.25.<uuid as integer>``).
    objects
        Object uuids (or object_ids) to export; default every object with an area.
    include_pending
        Include predictions not yet accepted.
    codes
        Coded segment category and type per object class id or name: ``(category, type)``
        or ``{"category": ..., "type": ...}``, each a pydicom ``Code``, a highdicom
        ``CodedConcept`` or a ``(value, scheme, meaning)`` tuple. Classes not given (the
        ontology carries no codes) get SNOMED CT 85756007 "Tissue" for both.
    series_description, series_number, content_label, content_creator_name
        Written into the SEG.

    Returns
    -------
    (highdicom.seg.Segmentation, Legend)
        The SEG dataset (segment number = legend value) and the legend.

    Raises
    ------
    ExportError
        Series not read from DICOM, multi-frame source, source images lacking Rows, Columns,
        FrameOfReferenceUID, ImagePositionPatient, ImageOrientationPatient or PixelSpacing,
        slices sharing one ImagePositionPatient (several volumes in one series), a path
        that is not a writable file path, two classes whose segment labels cannot
        be told apart (see Notes), or any of :func:`object_masks`' errors.

    Notes
    -----
    One frame per source slice and segment, empty frames omitted; segments may overlap (no
    overlap rule is needed). Segment algorithm type: MANUAL for objects drawn by people,
    AUTOMATIC for model predictions (AlgorithmName: the model, the objects' ``source``;
    AlgorithmFamily: artificial intelligence; AlgorithmVersion "not recorded"),
    SEMIAUTOMATIC for a mix, a prediction a person edited, or interpolated keyframes
    (AlgorithmName adds "dicom_annot_widget interpolation" for the latter).
    The display colour is the class colour. Text is UTF-8 (``ISO_IR 192``),
    whatever the source's character set.
    Segment labels are single valid LO values (:func:`lo_value`: no backslash, no control
    characters, at most 64 bytes) and unique: the class name (or the class id when names
    clash, :func:`class_segment_labels`), ``"<class label, cut> <object_id>"`` by object.
    When io had to substitute empty UIDs of the source files (see
    ``series.uid_substitutions``), the substitutes are referenced and a
    :class:`~dicom_annot_widget.DicomAnnotWarning` says which.
    """
    import highdicom as hd

    by = check_by(by)
    series = check_series(labels, series)
    out_path = check_output_path(path) if path is not None else None
    if codes is not None and not isinstance(codes, Mapping):
        raise TypeError(f"codes: expected a mapping, got {type(codes).__name__}")
    if codes is not None:
        # a misspelt class would silently get the placeholder code in a file for a PACS
        known = {c.id for c in labels.ontology.objects} | {c.name for c in labels.ontology.objects}
        unknown = [k for k in codes if k not in known]
        if unknown:
            raise ExportError(
                f"codes: no object class is called {', '.join(repr(k) for k in unknown)} "
                f"(classes: {', '.join(repr(c.name) for c in labels.ontology.objects)})"
            )
    _check_written_values(series_description, series_number, content_label, content_creator_name)
    chosen, skipped = select_objects(labels, objects, include_pending)
    check_distinct_positions(series, what="a DICOM SEG")
    sources, substituted = _prepare_sources(series, _source_datasets(series))
    groups = group_objects(labels, chosen, by)

    segment_labels = _segment_labels(labels, [entry for entry, _ in groups], by)
    n_slices, rows, columns = labels.series.shape
    pixels = _segment_pixels(labels, groups, (n_slices, rows, columns))
    descriptions = []
    for (entry, _), segment_label in zip(groups, segment_labels, strict=True):
        cls = labels.ontology.feature(entry.feature)
        category, kind = _codes_for(cls, codes)
        extra: dict[str, Any] = {}
        if by == "object":
            # the name the user gave the object (TrackingID: how a finding is known), else
            # its number
            name = entry.object_names[0] if entry.object_names else None
            # (TrackingID is UT: the whole name, backslashes included; not LO's 64 bytes)
            extra["tracking_id"] = name or f"object {entry.object_ids[0]}"
            extra["tracking_uid"] = _tracking_uid(entry.uuids[0])
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=entry.value,
                segment_label=segment_label,
                segmented_property_category=category,
                segmented_property_type=kind,
                display_color=hd.color.CIELabColor.from_string(cls.color),
                **_algorithm(labels, entry.uuids),
                **extra,
            )
        )
    if not pixels.any():
        raise ExportError("nothing to export: the selected objects cover no voxel of the series")
    uids = [k for k in substituted if k != "SliceThickness"]
    if uids:
        warnings.warn(
            "to_dicom_seg: the source files have empty "
            + ", ".join(uids)
            + "; the SEG references the substitutes the reader used (see "
            "series.uid_substitutions)",
            DicomAnnotWarning,
            stacklevel=caller_stacklevel(),
        )
    if "SliceThickness" in substituted:
        warnings.warn(
            "to_dicom_seg: the source files have no SliceThickness; the SEG gives the slice "
            f"spacing, {series.spacing[0]:.6g} mm",
            DicomAnnotWarning,
            stacklevel=caller_stacklevel(),
        )
    from .. import __version__

    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=series_number,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="dicom_annot_widget",
        manufacturer_model_name="dicom_annot_widget",
        software_versions=str(__version__),
        device_serial_number="0",
        content_label=content_label,
        content_description="Labels exported by dicom_annot_widget",
        content_creator_name=content_creator_name,
        omit_empty_frames=True,
        specific_character_set=SPECIFIC_CHARACTER_SET,
    )
    seg.SeriesDescription = lo_value(series_description)
    # voxels of more than one segment (kept in each: said, as the NIfTI legend says them)
    # (slice by slice: a count volume beside the segments' would be one more whole volume)
    overlap = (
        sum(int((frame.sum(axis=-1, dtype=np.uint16) > 1).sum()) for frame in pixels)
        if pixels.ndim == 4
        else 0
    )
    legend = Legend(
        by=by,
        entries=tuple(entry for entry, _ in groups),
        skipped=tuple(skipped),
        overlap_voxels=overlap,
    )
    if out_path is not None:
        seg.save_as(str(out_path))
    return seg, legend
