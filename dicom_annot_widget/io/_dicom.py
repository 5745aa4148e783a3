"""Turn a :class:`~._scan.StackGroup` (headers of one stack) into a :class:`Series`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from ._decode import raise_missing_decoder
from ._geometry import compute_geometry, plane_from_affine
from ._scan import (
    T_GANTRY_TILT,
    T_PATIENT_ORIENTATION,
    T_PIXEL_SPACING,
    T_SLICE_THICKNESS,
    T_SPACING_BETWEEN,
    StackGroup,
    fg_value,
    text_of,
)
from ._values import float_values, str_value, str_values
from .series import Series, _DicomBackend, _SeriesSpec
from .windows import Window, dicom_windows, voi_lut_windows

__all__ = ["check_spacing_affine", "override_geometry", "series_from_stack"]

T_WINDOW_CENTER = 0x00281050
T_PRESENTATION_LUT_SHAPE = 0x20500020
T_FRAME_INCREMENT_POINTER = 0x00280009
T_UNITS = 0x00541001
T_RESCALE_TYPE = 0x00281054
T_FRAME_TIME = 0x00181063
T_FRAME_TIME_VECTOR = 0x00181065
T_CINE_RATE = 0x00180040
T_RECOMMENDED_FRAME_RATE = 0x00082144
T_WINDOW_WIDTH = 0x00281051
T_WINDOW_EXPLANATION = 0x00281055


def _header_windows(ds: Dataset, fg_item: Dataset | None) -> list[Window]:
    source: Dataset | None = ds
    if fg_item is not None or "SharedFunctionalGroupsSequence" in ds:
        shared_seq = ds.get("SharedFunctionalGroupsSequence")
        shared = shared_seq[0] if shared_seq else None
        voi = fg_value(fg_item, shared, "FrameVOILUTSequence", T_WINDOW_CENTER)
        if voi is not None:
            source = voi
    if source is None:
        return []
    return dicom_windows(
        float_values(source, T_WINDOW_CENTER),
        float_values(source, T_WINDOW_WIDTH),
        str_values(source, T_WINDOW_EXPLANATION),
    ) + voi_lut_windows(ds.get("VOILUTSequence"))


#: PET's Units (0054,1001) as they are written for a reader.
_PET_UNITS = {"BQML": "Bq/mL", "CNTS": "counts", "GML": "g/mL", "PROPCNT": "counts", "NONE": ""}


def _units_of(ds: Dataset, modality: str) -> str:
    """The unit of the modality values: HU for CT; a PET's Units (BQML as Bq/mL, GML as
    g/mL...); else a RescaleType other than US (unspecified); "" when none is known."""
    if modality == "CT":
        return "HU"
    units = str_value(ds, T_UNITS).upper()
    if units:
        return _PET_UNITS.get(units, units)
    rescale = str_value(ds, T_RESCALE_TYPE)
    return "" if rescale.upper() in ("", "US") else rescale


def _frames_are_times(ds: Dataset, oriented: bool) -> bool:
    """Whether a multi-frame image's frames are moments of a cine loop (an ultrasound or X-ray
    angiography run), not places: its FrameIncrementPointer names FrameTime or FrameTimeVector,
    or it has a FrameTime and no patient orientation."""
    elem = ds.get(T_FRAME_INCREMENT_POINTER)
    pointers = [] if elem is None else (elem.value if elem.VM > 1 else [elem.value])
    try:
        named = {int(v) for v in pointers if v is not None}
    except (TypeError, ValueError):
        named = set()
    if named & {T_FRAME_TIME, T_FRAME_TIME_VECTOR}:
        return True
    return not oriented and bool(float_values(ds, T_FRAME_TIME, 1))


def _frame_rate(ds: Dataset) -> float | None:
    """The frames per second a cine loop was recorded at: RecommendedDisplayFrameRate, else
    CineRate, else 1000 / FrameTime (ms); None without them."""
    for tag in (T_RECOMMENDED_FRAME_RATE, T_CINE_RATE):
        v = float_values(ds, tag, 1)
        if v and np.isfinite(v[0]) and v[0] > 0:
            return float(v[0])
    t = float_values(ds, T_FRAME_TIME, 1)
    if t and np.isfinite(t[0]) and t[0] > 0:
        return 1000.0 / float(t[0])
    return None


def _stored_range(group: StackGroup) -> tuple[float, float] | None:
    lo, hi = np.inf, -np.inf
    for lay in {id(fr.file.layout): fr.file.layout for fr in group.frames}.values():
        if lay.float_kind:
            return None
        if lay.photometric == "PALETTE COLOR":
            top = float(np.iinfo(lay.stored_dtype).max)
            rng = (0.0, top)
        elif lay.bits_allocated == 1:
            rng = (0.0, 1.0)
        elif lay.samples > 1:
            rng = (0.0, float(2**lay.bits_stored - 1))
        elif lay.signed:
            rng = (-float(2 ** (lay.bits_stored - 1)), float(2 ** (lay.bits_stored - 1) - 1))
        else:
            rng = (0.0, float(2**lay.bits_stored - 1))
        lo, hi = min(lo, rng[0]), max(hi, rng[1])
    return (float(lo), float(hi))


def check_spacing_affine(
    spacing: Sequence[float] | None, affine: Any | None
) -> tuple[tuple[float, float, float] | None, NDArray[np.float64] | None]:
    """Validate the ``spacing=`` / ``affine=`` arguments (ValueError/TypeError if bad)."""
    sp: tuple[float, float, float] | None = None
    aff: NDArray[np.float64] | None = None
    if spacing is not None:
        try:
            if isinstance(spacing, (str, bytes)):
                raise TypeError(f"got the text {spacing!r}")
            values = [float(v) for v in spacing]
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "spacing must be a sequence of 3 numbers (slice, row, column) in mm, "
                f"got {spacing!r}"
            ) from exc
        if len(values) != 3 or not all(np.isfinite(v) and v > 0 for v in values):
            raise ValueError(
                f"spacing must be 3 positive finite numbers (slice, row, column) in mm, got "
                f"{spacing!r}"
            )
        sp = (values[0], values[1], values[2])
    if affine is not None:
        try:
            aff = np.array(affine, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError("affine must be a 4x4 array of numbers") from exc
        if aff.shape != (4, 4) or not np.all(np.isfinite(aff)):
            raise ValueError(f"affine must be a finite 4x4 matrix, got shape {aff.shape}")
        if not np.allclose(aff[3], [0, 0, 0, 1]):
            raise ValueError("affine's last row must be [0, 0, 0, 1]")
        if abs(np.linalg.det(aff[:3, :3])) < 1e-12:
            raise ValueError("affine is singular (its 3x3 part has determinant 0)")
    if sp is not None and aff is not None:
        norms = np.linalg.norm(aff[:3, :3], axis=0)  # column, row, slice
        if not np.allclose(norms[::-1], sp, rtol=1e-4, atol=1e-6):
            raise ValueError(
                f"spacing {sp} does not match the affine's column lengths "
                f"(slice, row, column) = {tuple(float(v) for v in norms[::-1])}"
            )
    return sp, aff


def override_geometry(
    affine: NDArray[np.float64],
    spacing: tuple[float, float, float],
    new_spacing: tuple[float, float, float] | None,
    new_affine: NDArray[np.float64] | None,
) -> tuple[NDArray[np.float64], tuple[float, float, float], str]:
    """Apply user ``spacing=`` / ``affine=`` to a geometry: (affine, spacing, plane)."""
    if new_affine is not None:
        norms = np.linalg.norm(new_affine[:3, :3], axis=0)
        sp = (float(norms[2]), float(norms[1]), float(norms[0]))
        return new_affine.copy(), sp, plane_from_affine(new_affine)
    assert new_spacing is not None
    out = affine.copy()
    for axis, new in zip((2, 1, 0), new_spacing, strict=True):
        col = out[:3, axis]
        norm = float(np.linalg.norm(col))
        out[:3, axis] = col / norm * new if norm > 0 else 0.0
    return out, new_spacing, plane_from_affine(out)


#: Modalities whose images carry their pixel size: one without it is worth a warning (a
#: photograph or a secondary capture often has none, rightly).
_SPACED_MODALITIES = frozenset({"CT", "MR", "PT", "NM", "CR", "DX", "MG", "IO", "XA", "RF"})


def series_from_stack(
    group: StackGroup,
    *,
    spacing: tuple[float, float, float] | None = None,
    affine: NDArray[np.float64] | None = None,
    modality: str | None = None,
    source: str = "",
    extra_warnings: Sequence[str] = (),
) -> Series:
    """Build a lazy :class:`Series` from the headers of one stack (no pixel decoding).

    Raises
    ------
    MissingDecoderError
        If a file of the stack uses a transfer syntax without an installed decoder.
    """
    for fr in group.frames:
        problem = fr.file.decode_problem
        if problem:
            raise_missing_decoder(fr.file.path, fr.file.layout.transfer_syntax, problem)

    frames = group.frames
    first_ds = frames[0].file.ds
    label = group.label
    warnings: list[str] = [f"{label}: {note}" for note in group.notes]
    seen_notes: set[str] = set()
    for fr in frames:
        for note in fr.file.notes:
            if note not in seen_notes:
                seen_notes.add(note)
                warnings.append(note)

    spacings = {fr.pixel_spacing for fr in frames}
    pixel_spacing = frames[0].pixel_spacing
    if len(spacings) > 1:
        warnings.append(
            f"{label}: pixel spacing differs between slices "
            f"({', '.join(str(s) for s in sorted(spacings, key=str)[:4])}); the first slice's "
            "is used."
        )
    orientation = next((fr.orientation for fr in frames if fr.orientation is not None), None)
    hint = float_values(first_ds, T_SPACING_BETWEEN, 1)
    if not hint and len(frames) == 1:
        # one slice: no positions to space it by; its thickness is the depth of its voxels
        # (a NIfTI of it, or a volume computed from it, would otherwise assume 1 mm)
        hint = float_values(first_ds, T_SLICE_THICKNESS, 1)
    tilt = float_values(first_ds, T_GANTRY_TILT, 1)
    geo = compute_geometry(
        positions=[fr.position for fr in frames],
        orientation=orientation,
        fallback_keys=[fr.sort_key() for fr in frames],
        pixel_spacing=pixel_spacing,
        slice_spacing_hint=abs(hint[0]) if hint else None,
        gantry_tilt=tilt[0] if tilt else None,
        patient_orientation=str_values(first_ds, T_PATIENT_ORIENTATION),
        label=label,
        expect_positions=len({id(fr.file) for fr in frames}) > 1,
    )
    warnings.extend(geo.warnings)
    ordered = [frames[i] for i in geo.order]

    aff, sp, plane, known = geo.affine, geo.spacing, geo.plane, geo.spacing_known
    if spacing is not None or affine is not None:
        aff, sp, plane = override_geometry(aff, sp, spacing, affine)
        known = True

    given_modality = modality if modality is not None else frames[0].file.modality
    series_modality = (given_modality or "").upper()
    if not known and series_modality in _SPACED_MODALITIES and T_PIXEL_SPACING not in first_ds:
        # (a PixelSpacing that is there but unusable has a note of its own)
        warnings.append(
            f"{label}: no PixelSpacing (nor ImagerPixelSpacing) in a {series_modality} series: the "
            "pixel size is unknown, so lengths, areas and volumes are in pixels (1 mm is "
            "assumed where millimetres are needed, e.g. in exports)."
        )
    layouts = [fr.file.layout for fr in ordered]
    backend = _DicomBackend(layouts, [fr.frame for fr in ordered])
    dtypes = {lay.stored_dtype for lay in layouts}
    if len(dtypes) > 1:
        backend.stored_dtype = np.result_type(*dtypes)
        warnings.append(
            f"{label}: slices are stored with different pixel types "
            f"({', '.join(sorted(str(d) for d in dtypes))}); {backend.stored_dtype} is used."
        )
    # distinct files with one SOPInstanceUID (a copy edited by hand, a bad anonymiser): a
    # DICOM SEG or any reference by UID cannot tell those slices apart
    owners: dict[str, set[int]] = {}
    for fr in ordered:
        if fr.file.sop_uid:
            owners.setdefault(fr.file.sop_uid, set()).add(id(fr.file))
    shared = [
        k
        for k, fr in enumerate(ordered)
        if fr.file.sop_uid and len(owners.get(fr.file.sop_uid, ())) > 1
    ]
    if shared:
        listed = ", ".join(map(str, shared[:8])) + (" ..." if len(shared) > 8 else "")
        warnings.append(
            f"{label}: {len(shared)} slices (slices {listed}) share their SOPInstanceUID with "
            "another file; references by UID (a DICOM SEG) cannot tell them apart."
        )
    first = ordered[0]
    photometric = first.file.layout.photometric
    if first.file.layout.is_color:
        photometric = "RGB"
    multi = any(fr.file.layout.n_frames > 1 for fr in ordered)
    modality_of = (modality if modality is not None else first.file.modality) or ""

    spec = _SeriesSpec(
        backend=backend,
        slopes=np.array([fr.slope for fr in ordered], dtype=np.float64),
        intercepts=np.array([fr.intercept for fr in ordered], dtype=np.float64),
        affine=aff,
        spacing=sp,
        spacing_known=known,
        orientation_known=geo.orientation_known or affine is not None,
        plane=plane,
        modality=modality_of,
        photometric_interpretation=photometric,
        presentation_lut_shape=str_value(first.file.ds, T_PRESENTATION_LUT_SHAPE).upper(),
        series_instance_uid=group.series_uid,
        study_instance_uid=group.study_uid,
        frame_of_reference_uid=first.file.for_uid,
        description=text_of(first_ds, "SeriesDescription"),
        series_number=first.file.series_number,
        sop_class_uid=first.file.sop_class_uid,
        sop_instance_uids=[fr.file.sop_uid for fr in ordered],
        slice_files=[fr.file.path for fr in ordered],
        slice_frames=[fr.frame if multi else None for fr in ordered],
        slice_positions=[fr.position for fr in ordered],
        instance_numbers=[None if multi else fr.file.instance_number for fr in ordered],
        stack=(group.stack, group.n_stacks),
        patient_orientation=tuple(str_values(first_ds, T_PATIENT_ORIENTATION)[:2]),
        units=_units_of(first.file.ds, modality_of),
        frame_rate=_frame_rate(first.file.ds) if multi else None,
        temporal=multi and _frames_are_times(first.file.ds, geo.orientation_known),
        warnings=warnings + list(extra_warnings),
        uid_substitutions=list(group.substitutions),
        header_windows=_header_windows(first.file.ds, first.fg_item),
        stored_range=_stored_range(group),
        slice_datasets=[fr.file.ds for fr in ordered],
        slice_fg_items=[fr.fg_item for fr in ordered],
        source=source,
    )
    return Series(spec)
