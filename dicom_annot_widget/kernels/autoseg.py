"""Auto-segmentation helpers: tighten a rough outline to the edges of what it encloses."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage as ndi
from skimage import filters, segmentation

from dicom_annot_widget.errors import LabelError
from dicom_annot_widget.kernels._checks import as_points, as_positive
from dicom_annot_widget.kernels.contours import mask_to_polygons, polygons_to_mask

__all__ = ["refine_mask", "refine_polygon"]


def refine_mask(
    image: NDArray[Any],
    mask: NDArray[np.bool_],
    *,
    band: float | None = None,
    sigma: float = 1.0,
) -> NDArray[np.bool_]:
    """Move the outline of a rough 2-D mask onto the strongest edges within a band around it.

    Marker-controlled watershed on the gradient magnitude (Sobel of the Gaussian-smoothed
    image), computed on the mask's bounding box grown by twice the band:

    * object marker: pixels deeper than ``band`` inside the mask (or its deepest 40 % when the
      mask is thinner than that);
    * background marker: pixels farther than ``band`` outside the mask.

    The boundary can therefore move at most ``band`` pixels inwards or outwards.

    Parameters
    ----------
    image
        2-D slice (rows, cols), any real dtype (stored or modality values: the gradient's scale
        does not matter).
    mask
        Rough boolean mask of the same shape.
    band
        How far (pixels) the outline may move. Default: a quarter of the mask's equivalent
        radius, clipped to 3..6 (wider bands let large outlines jump to stronger edges of
        neighbouring structures).
    sigma
        Gaussian smoothing (pixels) before the gradient.

    Returns
    -------
    ndarray of bool
        Refined mask (the input's copy when it is empty).
    """
    img = np.asarray(image)
    m = np.asarray(mask)
    if img.ndim != 2 or img.dtype.kind not in "biuf":
        raise LabelError(f"image must be a 2-D array of real numbers; got shape {img.shape}.")
    if m.shape != img.shape or m.dtype != np.bool_:
        raise LabelError(
            f"mask must be a boolean array of the image's shape {img.shape}; got {m.shape} "
            f"{m.dtype}."
        )
    sig = as_positive(sigma, "sigma", allow_zero=True)
    area = int(np.count_nonzero(m))
    if area == 0:
        return m.copy()
    if band is None:
        width = int(np.clip(round(0.25 * np.sqrt(area / np.pi)), 3, 6))
    else:
        width = max(1, round(as_positive(band, "band")))
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    grow = 2 * width + 2
    r0, r1 = max(int(rows[0]) - grow, 0), min(int(rows[-1]) + grow + 1, m.shape[0])
    c0, c1 = max(int(cols[0]) - grow, 0), min(int(cols[-1]) + grow + 1, m.shape[1])
    sub = img[r0:r1, c0:c1].astype(np.float32)
    mm = m[r0:r1, c0:c1]
    smooth = ndi.gaussian_filter(sub, sig) if sig > 0 else sub
    depth = ndi.distance_transform_edt(mm)
    core = depth > width
    if np.count_nonzero(core) < 5:
        core = depth >= 0.6 * depth.max()
    outer = ~ndi.binary_dilation(mm, iterations=width)
    markers = np.zeros(mm.shape, dtype=np.int32)
    markers[outer] = 1
    markers[core] = 2
    gradient = filters.sobel(smooth)
    region = segmentation.watershed(gradient, markers) == 2
    out = np.zeros_like(m)
    out[r0:r1, c0:c1] = region
    return out


def refine_polygon(
    image: NDArray[Any],
    polygon: ArrayLike,
    *,
    band: float | None = None,
    sigma: float = 1.0,
    tolerance: float = 0.5,
) -> NDArray[np.float64]:
    """Tighten a rough polygon to the edges of the structure it encloses.

    The polygon is rasterised, refined with :func:`refine_mask` (watershed in a band around the
    outline), and the largest resulting region is traced back.

    Parameters
    ----------
    image
        2-D slice (rows, cols).
    polygon
        Rough outline, (N, 2) xy in voxel coordinates, N >= 3.
    band, sigma
        See :func:`refine_mask`.
    tolerance
        Douglas-Peucker tolerance (pixels) for the returned outline.

    Returns
    -------
    ndarray (M, 2) float64
        The refined outline (positive orientation, see :mod:`.contours`). The input polygon is
        returned unchanged when it covers no pixel or the refinement finds nothing.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise LabelError(f"image must be a 2-D slice; got shape {img.shape}.")
    poly = as_points(polygon, "polygon", min_points=3)
    mask = polygons_to_mask(poly, img.shape)
    if not mask.any():
        return poly.copy()
    refined = refine_mask(img, mask, band=band, sigma=sigma)
    polys = mask_to_polygons(refined, tolerance=tolerance)
    if not polys:
        return poly.copy()
    return polys[0].exterior
