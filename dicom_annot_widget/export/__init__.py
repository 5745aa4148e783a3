"""Exports of labels as standard files: NIfTI label maps and DICOM SEG (JSON and pandas tables
are :meth:`Labels.to_json` and :meth:`Labels.to_dataframe`), and the way back
(:func:`from_nifti`, :func:`from_dicom_seg`: segmentations -> bitmask objects).

Uses the labels and io layers; see ``docs/export.md``.
"""

from ._legend import Legend, LegendEntry
from .imports import LabelImportError, from_dicom_seg, from_nifti
from .masks import ExportError, ObjectMasks, SkippedObject, object_masks
from .nifti import nifti_affine, to_nifti
from .seg import to_dicom_seg

__all__ = [
    "ExportError",
    "LabelImportError",
    "Legend",
    "LegendEntry",
    "ObjectMasks",
    "SkippedObject",
    "from_dicom_seg",
    "from_nifti",
    "nifti_affine",
    "object_masks",
    "to_dicom_seg",
    "to_nifti",
]
