"""NumPy / SciPy / scikit-image kernels: pure functions on arrays (no widget, no I/O, no DICOM).

Coordinates: vector geometry is ``(x, y)`` = ``(column, row)`` in voxel coordinates with pixel
centres at integers; array shapes and offsets are in array-axis order ``(row, col)`` or
``(slice, row, col)``.
"""

from dicom_annot_widget.kernels.autoseg import refine_mask, refine_polygon
from dicom_annot_widget.kernels.brush import (
    MaskPatch,
    apply_stroke,
    stroke_mask,
    stroke_patch,
    threshold_brush,
    threshold_patch,
)
from dicom_annot_widget.kernels.contours import (
    PolygonWithHoles,
    mask_to_polygons,
    mask_to_ring,
    polygon_area,
    polygons_to_mask,
    resample_closed,
    resample_open,
    split_keyhole,
)
from dicom_annot_widget.kernels.interpolation import (
    SHAPE_KINDS,
    interpolate_boxes,
    interpolate_points,
    interpolate_polygons,
    interpolate_polylines,
    interpolate_primitives,
    interpolate_track,
    match_polygon_rings,
)
from dicom_annot_widget.kernels.mask_interpolation import (
    interpolate_mask_volume,
    interpolate_masks,
    signed_distance,
)
from dicom_annot_widget.kernels.mpr import PLANE_AXES, plane_image, slab_range
from dicom_annot_widget.kernels.windowing import apply_window

__all__ = [
    "PLANE_AXES",
    "SHAPE_KINDS",
    "MaskPatch",
    "PolygonWithHoles",
    "apply_stroke",
    "apply_window",
    "interpolate_boxes",
    "interpolate_mask_volume",
    "interpolate_masks",
    "interpolate_points",
    "interpolate_polygons",
    "interpolate_polylines",
    "interpolate_primitives",
    "interpolate_track",
    "mask_to_polygons",
    "mask_to_ring",
    "match_polygon_rings",
    "plane_image",
    "polygon_area",
    "polygons_to_mask",
    "refine_mask",
    "refine_polygon",
    "resample_closed",
    "resample_open",
    "signed_distance",
    "slab_range",
    "split_keyhole",
    "stroke_mask",
    "stroke_patch",
    "threshold_brush",
    "threshold_patch",
]
