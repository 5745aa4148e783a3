"""Slice order, spacing and the voxel -> patient (LPS) affine of a stack of slices.

Conventions (same as DICOM and ITK): the affine maps the index ``(x=column, y=row, k=slice, 1)``
to patient LPS millimetres. Column direction = first triplet of ImageOrientationPatient,
row direction = second triplet, slice normal = their cross product. Slices are sorted by
ascending position along the normal, so the affine is right-handed and voxel ``(0, 0, 0)`` is
the first sorted slice's ImagePositionPatient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["Geometry", "compute_geometry", "plane_from_affine", "plane_from_normal"]

# Positions closer than this along the normal count as duplicates (mm).
_DUPLICATE_TOL = 1e-3
#: Positions without an orientation are used when this share of their spread lies along the
#: assumed (axial) normal.
_AXIAL_SHARE = 0.9
# Relative deviation of a slice gap from the median above which spacing is "non-uniform".
_UNIFORM_RTOL = 0.01
# Absolute floor for that tolerance (positions are often rounded to 0.01 mm).
_UNIFORM_ATOL = 0.02
# A gap this many times the median spacing means missing slices.
_MISSING_FACTOR = 1.5
# Angle (degrees) between the slice step and the normal above which slices are sheared.
_TILT_DEG = 0.5
#: Slice positions further than this (mm) from the line through them are not one stack.
_SCATTER_MM = 1.0
# |component| of the unit normal needed to name a standard plane (cos 25 deg).
_PLANE_COS = 0.9


@dataclass
class Geometry:
    """Geometry of a sorted stack; see module docstring for conventions."""

    order: NDArray[np.intp]
    affine: NDArray[np.float64]
    spacing: tuple[float, float, float]
    spacing_known: bool
    orientation_known: bool
    positions_known: bool
    plane: str
    warnings: list[str] = field(default_factory=list)


def plane_from_normal(normal: NDArray[np.float64] | Sequence[float]) -> str:
    """Name the plane whose normal is given (LPS): 'axial', 'coronal', 'sagittal' or 'oblique'."""
    n = np.asarray(normal, dtype=np.float64)
    norm = float(np.linalg.norm(n))
    if norm == 0 or not np.isfinite(norm):
        return "oblique"
    a = np.abs(n / norm)
    axis = int(np.argmax(a))
    if a[axis] < _PLANE_COS:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def plane_from_affine(affine: NDArray[np.float64]) -> str:
    """Plane of the slices of a volume given its (column, row, slice) -> LPS affine."""
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    return plane_from_normal(normal)


def _plane_from_patient_orientation(codes: Sequence[str] | None) -> str | None:
    """Plane of a projection image from PatientOrientation (row, column direction letters)."""
    if not codes or len(codes) != 2:
        return None
    axes = set()
    for code in codes:
        if not code:
            return None
        letter = code[0].upper()
        if letter in "LR":
            axes.add("x")
        elif letter in "AP":
            axes.add("y")
        elif letter in "HF":
            axes.add("z")
        else:
            return None
    if axes == {"x", "z"}:
        return "coronal"
    if axes == {"y", "z"}:
        return "sagittal"
    if axes == {"x", "y"}:
        return "axial"
    return None


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64] | None:
    n = float(np.linalg.norm(v))
    if n < 1e-6 or not np.isfinite(n):
        return None
    return v / n


def _nominal_spacing(gaps: NDArray[np.float64]) -> float:
    """The regular slice gap: the median gap, or the smallest gap when every gap is a whole
    multiple of it (so that a few missing slices in a short series do not skew it)."""
    med = float(np.median(gaps))
    base = gaps[gaps < _MISSING_FACTOR * float(gaps.min())]
    small = float(np.median(base))
    if med > small * (1.0 + _UNIFORM_RTOL):
        ratios = gaps / small
        tol = max(_UNIFORM_RTOL * small, _UNIFORM_ATOL)
        if float(np.max(np.abs(ratios - np.rint(ratios)) * small)) <= tol:
            return small
    return med


def _step_from_known(
    positions: Sequence[tuple[float, float, float] | None], order: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """(step, origin) when the known positions, taken in ``order``, advance by one regular
    step per slice (within 5%); ``None`` otherwise."""
    ranks = [r for r, i in enumerate(order) if positions[i] is not None]
    pos = np.asarray([positions[order[r]] for r in ranks], dtype=np.float64)
    steps = np.diff(pos, axis=0) / np.diff(np.asarray(ranks, dtype=np.float64))[:, None]
    step = np.median(steps, axis=0)
    size = float(np.linalg.norm(step))
    if size <= _DUPLICATE_TOL or float(np.abs(steps - step).max()) > 0.05 * size:
        return None
    return step, pos[0] - ranks[0] * step


def compute_geometry(
    *,
    positions: Sequence[tuple[float, float, float] | None],
    orientation: tuple[float, ...] | None,
    fallback_keys: Sequence[tuple[float, ...]],
    pixel_spacing: tuple[float, float] | None,
    slice_spacing_hint: float | None = None,
    gantry_tilt: float | None = None,
    patient_orientation: Sequence[str] | None = None,
    label: str = "series",
    expect_positions: bool = True,
) -> Geometry:
    """Sort slices and derive spacing, affine, plane and geometry warnings.

    Parameters
    ----------
    positions
        ImagePositionPatient per slice (``None`` where unknown).
    orientation
        The stack's ImageOrientationPatient (six direction cosines) or ``None``.
    fallback_keys
        Sort keys used when positions are incomplete (InstanceNumber, frame number...).
    pixel_spacing
        (row spacing, column spacing) in mm, or ``None`` when uncalibrated (1.0 is used).
    slice_spacing_hint
        SpacingBetweenSlices, used only when positions cannot give the spacing.
    gantry_tilt
        GantryDetectorTilt in degrees, mentioned in the tilt warning if non-zero.
    patient_orientation
        PatientOrientation letters, used to name the plane of projection images.
    label
        How warnings refer to the stack (a description or path, never patient data).
    expect_positions
        Whether slices without any position deserve a warning (a stack of separate files);
        the frames of one multi-frame file without positions (a cine loop) do not.

    Returns
    -------
    Geometry
    """
    n = len(positions)
    warnings: list[str] = []
    row_spacing, col_spacing = pixel_spacing if pixel_spacing else (1.0, 1.0)

    orientation_known = False
    row_dir = np.array([1.0, 0.0, 0.0])  # direction of increasing column index
    col_dir = np.array([0.0, 1.0, 0.0])  # direction of increasing row index
    if orientation is not None and len(orientation) == 6:
        r = _unit(np.asarray(orientation[:3], dtype=np.float64))
        c = _unit(np.asarray(orientation[3:], dtype=np.float64))
        if r is not None and c is not None and abs(float(np.dot(r, c))) < 1e-2:
            row_dir, col_dir = r, c
            orientation_known = True
        else:
            warnings.append(
                f"{label}: ImageOrientationPatient is not a pair of orthogonal unit vectors; "
                "orientation ignored (identity assumed)."
            )
    normal_opt = _unit(np.cross(row_dir, col_dir))
    normal = normal_opt if normal_opt is not None else np.array([0.0, 0.0, 1.0])

    all_positions = n > 0 and all(p is not None for p in positions)
    positions_known = all_positions and orientation_known
    if all_positions and not orientation_known and n > 1:
        # The identity orientation is assumed. Positions that advance along its normal (an
        # axial stack without its ImageOrientationPatient) still give the order and spacing.
        spread = np.ptp(np.asarray(positions, dtype=np.float64), axis=0)
        if spread[2] > 0 and spread[2] >= _AXIAL_SHARE * float(np.linalg.norm(spread)):
            positions_known = True
            warnings.append(
                f"{label}: no usable ImageOrientationPatient; an axial orientation is "
                "assumed, and the slices are ordered and spaced by their ImagePositionPatient."
            )
    keys = [tuple(k) for k in fallback_keys]
    fallback_order = np.array(sorted(range(n), key=lambda i: keys[i]), dtype=np.intp)

    default_step = slice_spacing_hint if slice_spacing_hint and slice_spacing_hint > 0 else 1.0

    if not positions_known:
        order = fallback_order
        origin_candidates = [positions[i] for i in order if positions[i] is not None]
        origin = (
            np.asarray(origin_candidates[0], dtype=np.float64) if origin_candidates else np.zeros(3)
        )
        step = normal * default_step
        slice_spacing = float(default_step)
        known = sum(p is not None for p in positions)
        derived = _step_from_known(positions, order) if 2 <= known < n else None
        if derived is not None:
            # the known positions advance regularly in instance/frame order: keep that order,
            # take the step (and the origin) from them
            step, origin = derived
            slice_spacing = float(np.linalg.norm(step))
            warnings.append(
                f"{label}: {n - known} of {n} slices have no usable ImagePositionPatient; slices "
                "are kept in instance/frame order, spaced by the step between the known positions "
                f"({slice_spacing:.4g} mm)."
            )
        elif n > 1 and (known or all_positions or expect_positions):
            if all_positions:
                why = (
                    "there is no usable ImageOrientationPatient and the positions do not "
                    "advance along the assumed axial direction"
                )
            elif known:
                why = (
                    f"{n - known} of {n} slices have no usable ImagePositionPatient (missing "
                    "or not three finite numbers)"
                )
            else:
                why = (
                    "no slice has a usable ImagePositionPatient (missing or not three finite "
                    "numbers)"
                )
            warnings.append(
                f"{label}: {why}; slices are kept in instance/frame order and a slice "
                f"spacing of {slice_spacing:g} mm is assumed."
            )
    else:
        pos = np.asarray(positions, dtype=np.float64)
        dist = pos @ normal
        # primary key: distance along the normal; ties broken by the fallback keys
        rank = np.empty(n, dtype=np.intp)
        rank[fallback_order] = np.arange(n)
        order = np.lexsort((rank, dist)).astype(np.intp)
        pos_sorted = pos[order]
        d_sorted = dist[order]
        origin = pos_sorted[0]
        slice_spacing = float(default_step)
        step = normal * default_step
        if n > 1:
            diffs = np.diff(d_sorted)
            dup = diffs < _DUPLICATE_TOL
            if dup.any():
                warnings.append(
                    f"{label}: {int(dup.sum())} slice(s) share their position with another slice "
                    "(duplicate ImagePositionPatient; several volumes, phases or echoes in one "
                    "series?). They are shown one after the other."
                )
            gaps = diffs[~dup]
            if gaps.size:
                med = _nominal_spacing(gaps)
                slice_spacing = med
                steps = np.diff(pos_sorted, axis=0)[~dup]
                step = np.median(steps, axis=0)
                # re-project so the step's component along the normal equals the median gap
                along = float(step @ normal)
                step = step * (med / along) if along > 0 else normal * med
                missing = gaps > _MISSING_FACTOR * med
                if missing.any():
                    idx = np.flatnonzero(~dup)[missing]
                    n_missing = int(np.sum(np.round(gaps[missing] / med) - 1))
                    where = ", ".join(
                        f"after sorted slice {int(i)}: {float(diffs[i]):.3g} mm gap"
                        for i in idx[:5]
                    )
                    more = "" if idx.size <= 5 else f" and {idx.size - 5} more"
                    warnings.append(
                        f"{label}: about {max(n_missing, 1)} slice(s) appear to be missing "
                        f"({where}{more}; expected {med:.3g} mm). The affine uses {med:.3g} mm, so "
                        "positions beyond a gap are off by the gap."
                    )
                regular = gaps[~missing]
                tol = max(_UNIFORM_RTOL * med, _UNIFORM_ATOL)
                if regular.size and float(np.max(np.abs(regular - med))) > tol:
                    warnings.append(
                        f"{label}: slice spacing is not uniform ({float(regular.min()):.4g} to "
                        f"{float(regular.max()):.4g} mm); the median {med:.4g} mm is used."
                    )
                # the slices' positions on one line (a tilted stack's too): not so when the
                # images of two series (two patients whose UIDs were blanked) are taken for
                # one (QA 24b D5: said to be "sheared by 82.93 deg ... as with gantry tilt")
                rel = pos_sorted - pos_sorted[0]
                along_n = rel @ normal
                inplane = rel - np.outer(along_n, normal)
                denom = float(along_n @ along_n)
                drift = inplane.T @ along_n / denom if denom > 0 else np.zeros(3)
                off = float(np.max(np.linalg.norm(inplane - np.outer(along_n, drift), axis=1)))
                scattered = off > _SCATTER_MM
                if scattered:
                    warnings.append(
                        f"{label}: the slices' positions do not lie on one line (up to "
                        f"{off:.3g} mm off): the images may belong to more than one series "
                        "(e.g. of different patients, de-identified with their UIDs blanked). "
                        "Open each series' files on their own before labelling."
                    )
                # shear: the step between slices is not along the normal (gantry tilt)
                unit_step = _unit(step)
                if unit_step is not None and not scattered:
                    cos = float(np.clip(abs(unit_step @ normal), -1.0, 1.0))
                    angle = float(np.degrees(np.arccos(cos)))
                    if angle > _TILT_DEG:
                        tilt_txt = (
                            f" (GantryDetectorTilt {gantry_tilt:g} deg)"
                            if gantry_tilt not in (None, 0.0)
                            else ""
                        )
                        warnings.append(
                            f"{label}: slices are sheared by {angle:.2f} deg relative to their "
                            f"normal{tilt_txt}, as with gantry tilt. The affine includes the "
                            "shear; resample before analyses that assume orthogonal voxels."
                        )
            else:
                warnings.append(
                    f"{label}: all slices have the same position; a slice spacing of "
                    f"{default_step:g} mm is assumed."
                )

    affine = np.eye(4, dtype=np.float64)
    affine[:3, 0] = row_dir * col_spacing
    affine[:3, 1] = col_dir * row_spacing
    affine[:3, 2] = step
    affine[:3, 3] = origin

    if orientation_known:
        plane = plane_from_normal(normal)
    else:
        plane = _plane_from_patient_orientation(patient_orientation) or "axial"

    return Geometry(
        order=order,
        affine=affine,
        spacing=(float(slice_spacing), float(row_spacing), float(col_spacing)),
        spacing_known=pixel_spacing is not None,
        orientation_known=orientation_known,
        positions_known=positions_known,
        plane=plane,
        warnings=warnings,
    )
