"""Labels -> one NIfTI-1 label map on the series' voxel grid.

One affine places every slice, so a DICOM series whose slices are not evenly spaced (a
missing slice) is refused unless asked for (``allow_irregular_slices=True``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DicomAnnotWarning, caller_stacklevel
from ..io import Series
from ..labels import Labels
from ._legend import Legend, check_by, group_objects
from ._series import check_output_path, check_series, check_slice_positions
from .masks import ExportError, object_slice_masks, select_objects

__all__ = ["RAS_FROM_LPS", "nifti_affine", "to_nifti"]

#: LPS -> RAS (NIfTI's world space): flip x and y.
RAS_FROM_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def nifti_affine(series: Series) -> np.ndarray:
    """The NIfTI (RAS+) affine of the series for voxel order ``(column, row, slice)``."""
    return RAS_FROM_LPS @ series.affine


def to_nifti(
    labels: Labels,
    series: Series,
    path: str | os.PathLike[str] | None = None,
    *,
    by: str = "class",
    objects: Iterable[Any] | None = None,
    include_pending: bool = False,
    allow_irregular_slices: bool = False,
) -> tuple[Any, Legend]:
    """Export labels as a NIfTI-1 label map on the series' grid.

    Parameters
    ----------
    labels
        The labels of ``series``.
    series
        The opened series (DICOM, NIfTI or NumPy); gives the grid and the affine.
    path
        Write the image here too (``.nii`` or ``.nii.gz``).
    by
        ``"class"``: one value per object class (1, 2, ... in ontology order);
        ``"object"``: one value per object (1, 2, ... in object_id order).
    objects
        Object uuids (or object_ids) to export; default every object with an area.
    include_pending
        Include predictions not yet accepted.
    allow_irregular_slices
        Write the image even when the series' slices are not evenly spaced (a missing
        slice, uneven spacing): the affine then misplaces some slices, and a
        :class:`~dicom_annot_widget.DicomAnnotWarning` says which and by how much. Default:
        refuse (see Raises).

    Returns
    -------
    (nibabel.Nifti1Image, Legend)
        The image: data ``(column, row, slice)`` = the series' voxel order, uint8 (uint16 when
        there are more than 255 values), 0 = background, sform = qform = the series' affine
        in RAS+ (``diag(-1, -1, 1, 1) @ series.affine``), intent ``label``; code 1 "scanner"
        where the series' geometry is known, sform code 2 "aligned" and no qform where its
        pixel size or orientation is assumed (with a warning), and no qform for a sheared
        (gantry-tilted) affine, which a qform cannot hold (with a warning). The legend maps
        every value to its class / object and lists the objects left out.

    Raises
    ------
    ExportError
        The affine does not reproduce every slice's ImagePositionPatient within
        0.1 voxel (``POSITION_TOLERANCE``; missing or unevenly spaced slices: NIfTI has one
        affine for all slices): the message names the series, the slices and the size of
        the mismatch. Export DICOM SEG instead, or pass ``allow_irregular_slices=True``.
        Also: the path is not a writable ``.nii`` / ``.nii.gz`` file path, or any of
        :func:`object_masks`' errors.

    Notes
    -----
    Overlaps: objects are painted in object_id order and a later object wins a voxel (with
    ``by="class"`` too: a voxel gets the class of the last object covering it);
    ``legend.overlap_voxels`` counts the voxels concerned. Points, polylines and primitives have
    no area and are left out (``legend.skipped``). No header text from the DICOM files is
    written (no patient data).
    """
    import nibabel as nib

    by = check_by(by)
    series = check_series(labels, series)
    if not isinstance(allow_irregular_slices, bool):
        raise TypeError(
            "allow_irregular_slices: expected True or False, got "
            f"{type(allow_irregular_slices).__name__}"
        )
    out_path = check_output_path(path, (".nii", ".nii.gz")) if path is not None else None
    chosen, skipped = select_objects(labels, objects, include_pending)
    check_slice_positions(series, allow=allow_irregular_slices, what="a NIfTI image")
    groups = group_objects(labels, chosen, by)
    n_values = len(groups)
    if n_values > np.iinfo(np.uint16).max:
        raise ExportError(
            f"by={by!r}: {n_values} values do not fit a uint16 label map; export fewer objects"
        )
    dtype = np.uint8 if n_values <= np.iinfo(np.uint8).max else np.uint16
    value_of = {obj.uuid: entry.value for entry, members in groups for obj in members}
    volume = np.zeros(labels.series.shape, dtype=dtype)  # (slice, row, column)
    overlap = np.zeros(labels.series.shape, dtype=np.bool_)
    for obj in chosen:  # object_id order: later objects win
        value = value_of[obj.uuid]
        for k, mask in object_slice_masks(labels, obj):  # only the slices it covers
            plane = volume[k]
            overlap[k] |= mask & (plane != 0) & (plane != value)
            plane[mask] = value
    data = np.ascontiguousarray(volume.transpose(2, 1, 0))  # (column, row, slice)
    affine = nifti_affine(series)
    grid = series.nifti_file_grid
    if grid is not None:
        # a NIfTI series: on its file's own grid (as 3D Slicer exports a labelmap in its
        # reference volume's geometry), so that the file and the labels line up voxel for
        # voxel (QA 24b D3: a RAS-stored CT got LPS-ordered labels)
        from nibabel.orientations import apply_orientation

        transform, affine = grid
        data = np.ascontiguousarray(apply_orientation(data, transform))
    image = nib.Nifti1Image(data, affine)
    header = image.header
    header.set_data_dtype(dtype)
    # the codes say what the affine is (NIfTI-1): scanner coordinates, when the series has
    # them; a qform cannot hold a shear (QA 24b D1: it held another geometry, up to 6 mm off,
    # which ITK-based readers use), and an assumed pixel size or orientation is not the
    # scanner's (QA 24b D7)
    known = series.spacing_known and series.orientation_known
    shear = _shear_degrees(affine)
    image.set_sform(affine, code="scanner" if known else "aligned")
    image.set_qform(affine, code="scanner" if known and shear <= SHEAR_DEGREES else "unknown")
    if not known:
        assumed = " and ".join(
            what
            for what, ok in (
                ("pixel size (1 mm)", series.spacing_known),
                ("orientation (axial)", series.orientation_known),
            )
            if not ok
        )
        warnings.warn(
            f"to_nifti: the series' {assumed} is assumed, not known: the file's affine is "
            "marked 'aligned' (sform code 2, no qform), not scanner coordinates; sizes and "
            "volumes from it are in assumed units",
            DicomAnnotWarning,
            stacklevel=caller_stacklevel(),
        )
    elif shear > SHEAR_DEGREES:
        warnings.warn(
            f"to_nifti: the series' slices are sheared by {shear:.2f} deg (gantry tilt): the "
            "sform holds its affine, the qform cannot and is left unset (code 0); readers "
            "that use only the qform, or that refuse a sheared sform, will misplace the "
            "labels (resample the series first, or export DICOM SEG)",
            DicomAnnotWarning,
            stacklevel=caller_stacklevel(),
        )
    header.set_xyzt_units("mm")
    header.set_intent("label")
    header["descrip"] = b"dicom_annot_widget labels"
    header["cal_min"] = 0
    header["cal_max"] = n_values
    legend = Legend(
        by=by,
        entries=tuple(entry for entry, _ in groups),
        skipped=tuple(skipped),
        overlap_voxels=int(overlap.sum()),
    )
    if out_path is not None:
        nib.save(image, str(out_path))
    return image, legend


#: Columns of an affine further than this from a right angle (degrees) are a shear.
SHEAR_DEGREES = 0.01


def _shear_degrees(affine: NDArray[np.float64]) -> float:
    """How far (degrees) the voxel axes of ``affine`` are from right angles to each other."""
    axes = [affine[:3, i] / (np.linalg.norm(affine[:3, i]) or 1.0) for i in range(3)]
    cosines = [abs(float(axes[i] @ axes[j])) for i, j in ((0, 1), (0, 2), (1, 2))]
    return float(np.degrees(np.arcsin(min(1.0, max(cosines)))))
