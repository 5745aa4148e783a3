"""Reading images: DICOM (pydicom + plugins), NIfTI (nibabel) and NumPy arrays -> Series.

Headers are read first (fast), files are grouped into studies and series, slices are sorted
by position and geometry is derived (4x4 LPS affine, spacing from positions). Pixels are
decoded lazily per slice, in parallel, in priority order.
"""

from ._pool import shutdown_workers, start_workers
from ._scan import UidSubstitution
from .loader import open_series, open_study
from .series import Series
from .study import SeriesInfo, Study, StudyInfo
from .windows import CT_PRESETS, Window

__all__ = [
    "CT_PRESETS",
    "Series",
    "SeriesInfo",
    "Study",
    "StudyInfo",
    "UidSubstitution",
    "Window",
    "open_series",
    "open_study",
    "shutdown_workers",
    "start_workers",
]
