"""Annotation model: ontology, objects/tracks, keyframes, classifications, measurements, undo
history and durable persistence (pure Python, no widget import).

Start with :class:`Labels` (in memory) or :meth:`Labels.open` (backed by a label file, durable
edit by edit), and an :class:`Ontology`. The document format is ``dicom-annot/1``, described in
``docs/labels.md``.
"""

from .api import Labels, ReadOnlyError
from .document import (
    SCHEMA,
    DynamicAnswer,
    FrameClassification,
    Keyframe,
    LabelDocument,
    LabelObject,
    Measurement,
    SeriesInfo,
)
from .geometry import PLANES, Box, Geometry, Mask, Point, Polygon, Polyline, Primitive
from .history import History
from .ontology import (
    Classification,
    ObjectClass,
    Ontology,
    OntologyBuilder,
    Option,
    PrimitiveEdge,
    PrimitiveNode,
)
from .operations import Operation, operation_from_dict
from .store import LabelFileError, LabelStore, default_label_dir, default_label_path

__all__ = [
    "PLANES",
    "SCHEMA",
    "Box",
    "Classification",
    "DynamicAnswer",
    "FrameClassification",
    "Geometry",
    "History",
    "Keyframe",
    "LabelDocument",
    "LabelFileError",
    "LabelObject",
    "LabelStore",
    "Labels",
    "Mask",
    "Measurement",
    "ObjectClass",
    "Ontology",
    "OntologyBuilder",
    "Operation",
    "Option",
    "Point",
    "Polygon",
    "Polyline",
    "Primitive",
    "PrimitiveEdge",
    "PrimitiveNode",
    "ReadOnlyError",
    "SeriesInfo",
    "default_label_dir",
    "default_label_path",
    "operation_from_dict",
]
