"""Series from NumPy arrays and NIfTI files (nibabel)."""

from __future__ import annotations

import json
import os
import warnings
import zlib
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.uid import generate_uid

from ..errors import DicomLoadError, DicomLoadWarning
from ._dicom import check_spacing_affine
from ._geometry import plane_from_affine
from ._scan import UidSubstitution
from .series import Series, _ArrayBackend, _SeriesSpec

__all__ = ["is_nifti_path", "series_from_array", "series_from_nifti"]

# RAS <-> LPS: flip x and y
_FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])

# Target voxel axes (column, row, slice) per plane, as nibabel axis codes in RAS space,
# matching DICOM's usual display: axial col->L row->P slice->S; coronal col->L row->I
# slice->P; sagittal col->P row->I slice->R (ascending along the DICOM slice normal).
_TARGET_CODES = {
    2: ("L", "P", "S"),
    1: ("L", "I", "P"),
    0: ("P", "I", "R"),
}


def is_nifti_path(path: str) -> bool:
    """True for ``.nii``, ``.nii.gz``, ``.hdr``/``.img`` (Analyze/NIfTI pair) file names."""
    name = path.lower()
    return name.endswith((".nii", ".nii.gz", ".hdr", ".img", ".img.gz"))


#: A 3D array (rows, columns, 3 | 4) at least this many pixels on each side is one RGB image.
_MIN_RGB_SIDE = 8


def _smallest_int(lo: int, hi: int) -> np.dtype[Any] | None:
    for cand in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32):
        info = np.iinfo(cand)
        if info.min <= lo and hi <= info.max:
            return np.dtype(cand)
    return None


def _normalise_dtype(arr: NDArray[Any], what: str) -> NDArray[Any]:
    """bool -> uint8, float64/float16 -> float32, 64-bit ints -> smallest int that fits."""
    kind = arr.dtype.kind
    if kind == "b":
        return arr.astype(np.uint8)
    if kind == "f":
        return arr if arr.dtype == np.float32 else arr.astype(np.float32)
    if kind in "iu":
        if arr.dtype.itemsize <= 4:
            return arr
        if arr.size == 0:
            return arr.astype(np.int32)
        target = _smallest_int(int(arr.min()), int(arr.max()))
        return arr.astype(target if target is not None else np.float32)
    raise DicomLoadError(
        f"{what} has dtype {arr.dtype}, which cannot be shown; use integers, floats or booleans."
    )


def _array_uids(what: str, identity: list[str]) -> tuple[str, str, list[UidSubstitution]]:
    """Study and series UIDs for a source without DICOM UIDs, made from ``identity`` (what
    the source is: its contents and how it is read): the same file or array gives the same
    UIDs in every session, so that its labels are found again (QA 24b D10: a new random UID
    on every open, and a widget refused its own label file after a kernel restart)."""
    study = generate_uid(entropy_srcs=["array study", *identity])
    series = generate_uid(entropy_srcs=["array series", *identity])
    why = (
        f"{what} has no DICOM UIDs; a UID was made from its contents (the same data opened "
        "the same way gets it again)."
    )
    subs = [
        UidSubstitution("StudyInstanceUID", study, why, 1),
        UidSubstitution("SeriesInstanceUID", series, why, 1),
    ]
    return study, series, subs


def _checksums(data: Any) -> str:
    """Two checksums of the bytes of ``data`` (a contiguous array or a bytes-like): cheap
    (about 60 ms for 157 MB), for telling sources apart, not for security."""
    view = memoryview(data).cast("B")
    return f"{zlib.crc32(view):08x}{zlib.adler32(view):08x}"


def _file_checksums(path: str) -> str:
    """:func:`_checksums` of a file's bytes and its size, read in chunks."""
    crc, adler, size = 0, 1, 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
            size += len(chunk)
    return f"{crc:08x}{adler:08x}:{size}"


def _range_of(volume: NDArray[Any]) -> tuple[float, float] | None:
    if volume.size == 0:
        return None
    if volume.dtype.kind == "f":
        finite = volume[np.isfinite(volume)]
        if finite.size == 0:
            return None
        return float(finite.min()), float(finite.max())
    return float(volume.min()), float(volume.max())


def _dtype_range(dtype: np.dtype[Any]) -> tuple[float, float] | None:
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return float(info.min), float(info.max)
    return None


def series_from_array(
    array: Any,
    *,
    spacing: Any = None,
    affine: Any = None,
    modality: str | None = None,
) -> Series:
    """A :class:`Series` over a NumPy array ``[slice, row, column]`` (no copy if possible).

    2D arrays are one slice; 4D arrays with a last axis of 3 (or 4, alpha dropped) are RGB,
    and so is a 3D uint8 array ``(rows, columns, 3 | 4)`` of at least 8 x 8 pixels (one colour
    image; a non-uint8 one is refused). An alpha channel that is not opaque everywhere is
    dropped with a :class:`DicomLoadWarning`.
    Without ``spacing``/``affine`` the spacing is unknown (1 mm, ``spacing_known=False``).
    """
    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and min(arr.shape[:2]) >= _MIN_RGB_SIDE:
        # (rows, columns, 3|4): one colour image (skimage's and matplotlib's layout), not
        # `rows` slices of 3 columns
        if arr.dtype != np.uint8:
            raise DicomLoadError(
                f"a NumPy array of shape {arr.shape} is read as one RGB image (rows, columns, "
                f"channel), which must be uint8, got {arr.dtype} (e.g. "
                "(image * 255).astype(np.uint8)); a volume is (slices, rows, columns)."
            )
        arr = arr[np.newaxis]
    if arr.ndim == 4 and arr.shape[-1] in (3, 4):
        if arr.shape[-1] == 4:
            alpha = arr[..., 3]
            if alpha.dtype == np.uint8 and not bool((alpha == 255).all()):
                warnings.warn(
                    f"the NumPy array (shape {arr.shape}) has an alpha channel that is not "
                    "opaque everywhere; it is not shown (RGB only)",
                    DicomLoadWarning,
                    stacklevel=3,
                )
        arr = arr[..., :3]
    elif arr.ndim != 3:
        raise DicomLoadError(
            f"a NumPy array of shape {arr.shape} cannot be shown: expected (rows, columns), "
            "(slices, rows, columns) or (slices, rows, columns, 3) for RGB."
        )
    if 0 in arr.shape:
        raise DicomLoadError(f"the NumPy array is empty (shape {arr.shape}).")
    arr = np.ascontiguousarray(_normalise_dtype(arr, "the NumPy array"))
    if arr.ndim == 4 and arr.dtype != np.uint8:
        raise DicomLoadError(f"an RGB NumPy array must be uint8, got {arr.dtype}.")
    sp, aff = check_spacing_affine(spacing, affine)
    if aff is not None:
        norms = np.linalg.norm(aff[:3, :3], axis=0)
        sp = (float(norms[2]), float(norms[1]), float(norms[0]))
    elif sp is not None:
        aff = np.diag([sp[2], sp[1], sp[0], 1.0])
    known = sp is not None
    if aff is None:
        aff = np.eye(4)
    if sp is None:
        sp = (1.0, 1.0, 1.0)
    notes: list[str] = []
    if arr.dtype.kind == "f":
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:  # (QA: accepted without a word)
            notes.append(
                f"the NumPy array has {bad:,} NaN or infinite values (of {arr.size:,}): they are "
                "left out of its value range and default window, and have no grey value of "
                "their own (NaN is shown black, infinities at the window's ends)."
            )
    identity = [
        str(arr.shape),
        arr.dtype.str,
        repr(sp if known else None),
        repr(np.round(aff, 9).tolist()),
        str(modality),
        _checksums(arr),
    ]
    study, series, subs = _array_uids("the NumPy array", identity)
    n = arr.shape[0]
    backend = _ArrayBackend(arr.shape, arr.dtype, volume=arr)
    spec = _SeriesSpec(
        backend=backend,
        slopes=np.ones(n),
        intercepts=np.zeros(n),
        affine=aff,
        spacing=sp,
        spacing_known=known,
        orientation_known=affine is not None,
        plane=plane_from_affine(aff),
        modality=(modality or "").upper(),
        photometric_interpretation="RGB" if arr.ndim == 4 else "MONOCHROME2",
        series_instance_uid=series,
        study_instance_uid=study,
        description="NumPy array",
        uid_substitutions=subs,
        stored_range=_dtype_range(arr.dtype),
        range_provider=lambda: _range_of(arr),
        warnings=notes,
        sop_instance_uids=[""] * n,
        slice_files=[None] * n,
        slice_frames=[None] * n,
        source="numpy array",
    )
    return Series(spec)


def _bids_sidecar(path: str) -> dict[str, Any]:
    """The BIDS JSON sidecar of a NIfTI file (``x.nii[.gz]`` -> ``x.json``), or ``{}``.

    A sidecar that cannot be read or is not a JSON object is ignored with a
    :class:`DicomLoadWarning` naming it.
    """
    base = path[:-7] if path.endswith(".nii.gz") else path[:-4] if path.endswith(".nii") else ""
    sidecar = base + ".json"
    if not base or not os.path.isfile(sidecar):
        return {}
    try:
        with open(sidecar, encoding="utf-8") as fp:
            value = json.load(fp)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        warnings.warn(
            f"Ignored the sidecar '{sidecar}': it is not readable JSON ({exc}).",
            DicomLoadWarning,
            stacklevel=4,
        )
        return {}
    if not isinstance(value, dict):
        warnings.warn(
            f"Ignored the sidecar '{sidecar}': it holds a JSON {type(value).__name__}, "
            "not an object.",
            DicomLoadWarning,
            stacklevel=4,
        )
        return {}
    return value


def series_from_nifti(
    source: Any,
    *,
    modality: str | None = None,
    reorient: bool = True,
    spacing: Any = None,
    affine: Any = None,
) -> Series:
    """A :class:`Series` from a NIfTI file path or a nibabel image (loaded on first access).

    The RAS+ affine is converted to LPS. With ``reorient`` (default) the voxel axes are
    flipped/permuted (never resampled) so slices display like DICOM: axial column->L,
    row->P, slice->S (coronal and sagittal likewise).

    NIfTI has no modality. Without ``modality``, it is taken from a BIDS JSON sidecar beside
    the file (``scan.nii.gz`` -> ``scan.json``, as dcm2niix writes it), with the sidecar's
    ``SeriesDescription`` as the description.
    """
    import nibabel as nib
    from nibabel.orientations import (
        apply_orientation,
        axcodes2ornt,
        inv_ornt_aff,
        io_orientation,
        ornt_transform,
    )

    if spacing is not None or affine is not None:
        raise TypeError(
            "spacing= and affine= apply to NumPy arrays only; a NIfTI file has its own affine"
        )
    img: Any
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            img = nib.load(path)
        except FileNotFoundError as exc:
            raise DicomLoadError(f"'{path}' does not exist.") from exc
        except Exception as exc:
            raise DicomLoadError(
                f"Cannot open '{path}' as NIfTI: {type(exc).__name__}: {exc}"
            ) from exc
        what = f"'{path}'"
        name = os.path.basename(path)
        sidecar = _bids_sidecar(path)
        if modality is None and isinstance(sidecar.get("Modality"), str):
            modality = sidecar["Modality"]
        if isinstance(sidecar.get("SeriesDescription"), str) and sidecar["SeriesDescription"]:
            name = sidecar["SeriesDescription"]
    else:
        img = source
        path = getattr(img, "get_filename", lambda: None)() or ""
        what = f"'{path}'" if path else "the nibabel image"
        name = os.path.basename(path) if path else "NIfTI image"

    shape = tuple(int(s) for s in img.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3:
        raise DicomLoadError(
            f"{what} has shape {tuple(img.shape)}; only 3D volumes can be shown. Pick one "
            "volume first, e.g. open_series(img.slicer[..., 0]) with a nibabel image."
        )
    disk_dtype = np.dtype(img.get_data_dtype())
    is_rgb = disk_dtype.names is not None and len(disk_dtype.names) >= 3
    if disk_dtype.names is not None and not is_rgb:
        raise DicomLoadError(f"{what} has a structured dtype {disk_dtype} that cannot be shown.")

    dataobj = img.dataobj
    slope = float(getattr(dataobj, "slope", 1.0) or 1.0)
    inter = float(getattr(dataobj, "inter", 0.0) or 0.0)
    if not np.isfinite(slope) or slope == 0:
        slope = 1.0
    if not np.isfinite(inter):
        inter = 0.0

    aff_ras = np.asarray(img.affine, dtype=np.float64)
    file_affine = aff_ras.copy()
    transform = None
    if reorient:
        src = io_orientation(aff_ras)
        if not np.isnan(src).any():
            target = axcodes2ornt(_TARGET_CODES[int(src[2, 0])])
            transform = ornt_transform(src, target)
            aff_ras = aff_ras @ inv_ornt_aff(transform, shape)
            if np.array_equal(transform, ornt_transform(target, target)):
                transform = None  # (stored in the series' order already)
            else:
                back = ornt_transform(target, src)
    # shape after reorientation, without touching the data
    probe = np.broadcast_to(np.zeros((), dtype=np.uint8), shape)
    if transform is not None:
        probe = apply_orientation(probe, transform)
    new_shape = probe.shape
    out_shape: tuple[int, ...] = (new_shape[2], new_shape[1], new_shape[0])
    if is_rgb:
        out_shape = (*out_shape, 3)

    def load() -> NDArray[Any]:
        try:
            if hasattr(dataobj, "get_unscaled"):
                data = np.asanyarray(dataobj.get_unscaled())
            else:
                data = np.asanyarray(dataobj)
        except Exception as exc:
            raise DicomLoadError(
                f"Cannot read the voxel data of {what}: {type(exc).__name__}: {exc}"
            ) from exc
        data = data.reshape(shape)
        if is_rgb:
            names = data.dtype.names
            assert names is not None
            data = np.stack([data[n] for n in names[:3]], axis=-1)
        if transform is not None:
            data = apply_orientation(data, transform)
        data = data.transpose((2, 1, 0, 3) if is_rgb else (2, 1, 0))
        data = _normalise_dtype(np.ascontiguousarray(data), what)
        return data

    stored_dtype: np.dtype[Any] = np.dtype(np.uint8) if is_rgb else disk_dtype
    if stored_dtype.kind not in "iufb":
        raise DicomLoadError(f"{what} has voxel type {disk_dtype}, which cannot be shown.")
    backend: _ArrayBackend
    if stored_dtype.kind in "iu" and stored_dtype.itemsize > 4:
        # the smallest integer type that fits is known only after loading
        loaded = load()
        stored_dtype = loaded.dtype
        backend = _ArrayBackend(out_shape, stored_dtype, volume=loaded)
    else:
        if stored_dtype.kind == "b":
            stored_dtype = np.dtype(np.uint8)
        elif stored_dtype.kind == "f":
            stored_dtype = np.dtype(np.float32)
        backend = _ArrayBackend(out_shape, stored_dtype, loader=load)

    aff_lps = _FLIP @ aff_ras
    norms = np.linalg.norm(aff_lps[:3, :3], axis=0)
    n = out_shape[0]
    if isinstance(source, (str, os.PathLike)):
        content = _file_checksums(path)
    else:  # an image in memory: its header and voxels
        block = getattr(getattr(img, "header", None), "binaryblock", b"")
        content = _checksums(bytes(block)) + _checksums(np.ascontiguousarray(img.dataobj))
    identity = ["nifti", content, str(reorient), str(modality)]
    study, series, subs = _array_uids(what, identity)

    def value_range() -> tuple[float, float] | None:
        return _range_of(backend.volume())

    spec = _SeriesSpec(
        backend=backend,
        slopes=np.full(n, slope),
        intercepts=np.full(n, inter),
        affine=aff_lps,
        spacing=(float(norms[2]), float(norms[1]), float(norms[0])),
        spacing_known=True,
        orientation_known=True,
        plane=plane_from_affine(aff_lps),
        modality=(modality or "").upper(),
        photometric_interpretation="RGB" if is_rgb else "MONOCHROME2",
        series_instance_uid=series,
        study_instance_uid=study,
        description=name,
        uid_substitutions=subs,
        stored_range=_dtype_range(stored_dtype),
        range_provider=value_range,
        sop_instance_uids=[""] * n,
        slice_files=[path or None] * n,
        slice_frames=[None] * n,
        source=path or "nibabel image",
        nifti_file_grid=None if transform is None or is_rgb else (back, file_affine),
    )
    return Series(spec)
