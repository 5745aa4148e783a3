"""One exception hierarchy for the whole package.

Every error the package raises on purpose derives from :class:`DicomAnnotError`, so a caller
can catch everything project-specific with a single ``except``. Messages are sentences a user
can act on: they name the file, message or argument at fault and say why.
"""

from __future__ import annotations

import math
import os
import reprlib
import sys
from typing import Any

from traitlets import TraitError

__all__ = [
    "DicomAnnotError",
    "DicomAnnotWarning",
    "DicomLoadError",
    "DicomLoadWarning",
    "LabelError",
    "MissingDecoderError",
    "ProtocolError",
    "WidgetValueError",
    "describe",
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


class WidgetValueError(DicomAnnotError, TraitError, ValueError):
    """A widget argument or trait value is out of range or of the wrong kind (``slice=99``,
    ``w.window = (0, 0)``): a ``ValueError`` and a traitlets ``TraitError`` both."""


class DicomAnnotWarning(UserWarning):
    """Base class of the warnings the package emits."""


class DicomLoadWarning(DicomAnnotWarning):
    """Loading went on, but something about the input is unusual (skipped file, gap, tilt...)."""


_REPR = reprlib.Repr()
_REPR.maxlevel = 8
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 24
_REPR.maxstring = _REPR.maxother = 80


def describe(value: Any, limit: int = 60) -> str:
    """A short ``repr`` of ``value`` for error messages (never a whole big structure, never
    all the digits of a huge integer)."""
    try:
        # reprlib for containers: a structure nested a thousand deep must not exhaust the stack
        text = _REPR.repr(value) if isinstance(value, (list, tuple, dict, set)) else repr(value)
    except ValueError:  # an integer with more digits than Python converts to text
        return f"<an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits>"
    if len(text) <= limit:
        return text
    if isinstance(value, int):
        return f"{text[:12]}... (an integer of {len(text.lstrip('-'))} digits)"
    return text[: limit - 3] + "..."


def caller_stacklevel() -> int:
    """The ``stacklevel`` of a warning raised here that points at the first frame outside
    this package: the user's line, whatever path inside the package led to it."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
