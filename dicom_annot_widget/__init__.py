"""dicom_annot_widget: a DICOM viewer and label editor inside Jupyter notebooks."""

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    DicomAnnotError,
    DicomAnnotWarning,
    DicomLoadError,
    DicomLoadWarning,
    LabelError,
    MissingDecoderError,
    ProtocolError,
    WidgetValueError,
)
from .export import (
    ExportError,
    LabelImportError,
    from_dicom_seg,
    from_nifti,
    object_masks,
    to_dicom_seg,
    to_nifti,
)
from .io import Series, Study, open_series, open_study
from .io.phantom import default_demo_series, write_phantom_series
from .labels import Labels, Ontology
from .widget import DicomAnnotator, OrthogonalViews, link_positions

try:
    __version__ = version("dicom_annot_widget")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "DicomAnnotError",
    "DicomAnnotWarning",
    "DicomAnnotator",
    "DicomLoadError",
    "DicomLoadWarning",
    "ExportError",
    "LabelError",
    "LabelImportError",
    "Labels",
    "MissingDecoderError",
    "Ontology",
    "OrthogonalViews",
    "ProtocolError",
    "Series",
    "Study",
    "WidgetValueError",
    "__version__",
    "default_demo_series",
    "from_dicom_seg",
    "from_nifti",
    "link_positions",
    "object_masks",
    "open_series",
    "open_study",
    "to_dicom_seg",
    "to_nifti",
    "write_phantom_series",
]
