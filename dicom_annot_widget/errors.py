"""One exception hierarchy for the whole package.

Every error the package raises on purpose derives from :class:`DicomAnnotError`, so a caller
can catch everything project-specific with a single ``except``. Messages are sentences a user
can act on: they name the file, message or argument at fault and say why.
"""

from __future__ import annotations

__all__ = [
    "DicomAnnotError",
    "DicomAnnotWarning",
    "DicomLoadError",
    "DicomLoadWarning",
    "LabelError",
    "MissingDecoderError",
    "ProtocolError",
]


class DicomAnnotError(Exception):
    """Base class of every exception raised by ``dicom_annot_widget``."""


class DicomLoadError(DicomAnnotError, ValueError):
    """A file, folder, array or dataset could not be turned into a series."""


class MissingDecoderError(DicomLoadError):
    """Pixel data uses a transfer syntax for which no decoder plugin is installed."""


class LabelError(DicomAnnotError, ValueError):
    """An annotation, ontology or label document is invalid."""


class ProtocolError(DicomAnnotError, ValueError):
    """A message from the front end is malformed or refers to something that does not exist."""


class DicomAnnotWarning(UserWarning):
    """Base class of the warnings the package emits."""


class DicomLoadWarning(DicomAnnotWarning):
    """Loading went on, but something about the input is unusual (skipped file, gap, tilt...)."""
