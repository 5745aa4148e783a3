"""Exports of labels as standard files: NIfTI label maps and DICOM SEG (JSON and pandas tables
are :meth:`Labels.to_json` and :meth:`Labels.to_dataframe`).

Uses the labels and io layers; see ``docs/export.md``.
"""

from ._legend import Legend, LegendEntry
from .masks import ExportError, ObjectMasks, SkippedObject, object_masks
from .nifti import nifti_affine, to_nifti
from .seg import to_dicom_seg

__all__ = [
    "ExportError",
    "Legend",
    "LegendEntry",
    "ObjectMasks",
    "SkippedObject",
    "nifti_affine",
    "object_masks",
    "to_dicom_seg",
    "to_nifti",
]
