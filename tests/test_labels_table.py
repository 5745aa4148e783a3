"""The table export (``labels.to_records`` / ``to_dataframe``) in patient millimetres on a
series whose slices are not evenly spaced: each point goes through its own slice's position."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dicom_annot_widget.errors import DicomAnnotWarning, LabelError
from dicom_annot_widget.io import Series, open_series
from dicom_annot_widget.kernels import polygons_to_mask
from dicom_annot_widget.labels import Labels
from dicom_annot_widget.labels.table import check_geometry, series_slice_positions
from tests.test_io_synthetic import make_series
from tests.test_labels_interpolation import ontology

# make_series: slice k at (-10, -20, -40 + 2.5 k); pixel spacing (row 0.5, column 0.7) mm
COL_MM, ROW_MM, STEP, Z0 = 0.7, 0.5, 2.5, -40.0
# slice 4 of 8 is missing: sorted slices 0..3 are k = 0..3, sorted slices 4..6 are k = 5..7
HEADER_Z = [Z0 + STEP * k for k in (0, 1, 2, 3, 5, 6, 7)]


@pytest.fixture
def gap_series(tmp_path: Path) -> Iterator[Series]:
    make_series(tmp_path / "gap", 8, skip=[4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "about 1 slice(s) appear to be missing"
        series = open_series(tmp_path / "gap")
    with series:
        yield series


def mm(c: float, r: float, z: float) -> tuple[float, float, float]:
    return (-10.0 + COL_MM * c, -20.0 + ROW_MM * r, z)


def shoelace(ring: list[tuple[float, float]]) -> float:
    """Area of a polygon in a plane."""
    pairs = zip(ring, [*ring[1:], ring[0]], strict=True)
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs))


def test_points_beyond_a_missing_slice_are_where_their_header_says(gap_series: Series) -> None:
    assert len(gap_series) == 7
    assert gap_series.affine[2, 2] == pytest.approx(STEP)  # one spacing: the median
    labels = Labels(gap_series, ontology())
    before = labels.add_polygon("Liver", 2, [(1, 1), (5, 1), (5, 3)])
    after = labels.add_point("Landmark", 5, (3, 4))
    rows = {r["uuid"]: r for r in labels.to_records(gap_series)}
    assert rows[before]["points_mm"][2] == pytest.approx(mm(5, 3, HEADER_Z[2]))
    # slice 5 is the seventh file (k = 6): z = -25, where the affine alone says -27.5
    assert rows[after]["points_mm"] == [pytest.approx(mm(3, 4, -25.0))]
    by_affine = {r["uuid"]: r for r in labels.to_records(gap_series.affine)}
    assert by_affine[after]["points_mm"][0][2] == pytest.approx(-27.5)
    # axial areas do not depend on the slice positions
    assert rows[before]["area_mm2"] == pytest.approx(4.0 * COL_MM * ROW_MM)
    # the positions can be given explicitly (e.g. for arrays), and the series' own replaced
    positions = [mm(0, 0, z) for z in HEADER_Z]
    explicit = labels.to_records(gap_series.affine, slice_positions=positions)
    assert [r["points_mm"] for r in explicit] == [r["points_mm"] for r in rows.values()]
    labels.affine = gap_series.affine
    assert (
        labels.to_records(slice_positions=np.array(positions))[1]["points_mm"]
        == (rows[after]["points_mm"])
    )


def test_lengths_and_areas_across_a_missing_slice(gap_series: Series) -> None:
    labels = Labels(gap_series, ontology())
    # coronal (u = column, v = slice): from slice 2 to slice 6 is k 2 -> 7, 12.5 mm, not 10
    line = labels.add_polyline("Vessel", 4, [(1, 2), (1, 6)], plane="coronal")
    diagonal = labels.add_polyline("Vessel", 4, [(0, 3), (4, 5)], plane="coronal")
    box = labels.add_box("Lesion", 4, (0, 1, 4, 5), plane="coronal")
    tri = labels.add_polygon("Liver", 4, [(0, 1), (4, 1), (0, 5)], plane="coronal")
    image = np.zeros((7, 10), bool)  # coronal plane image: slices x columns
    image[3:5, 0:2] = True  # two pixels on slice 3 (k = 3) and on slice 4 (k = 5)
    mask = labels.add_mask("Tumour", image, slice=4, plane="coronal")
    rows = {r["uuid"]: r for r in labels.to_records(gap_series)}
    assert rows[line]["length_mm"] == pytest.approx(12.5)
    assert rows[line]["points_mm"][1] == pytest.approx(mm(1, 4, -22.5))
    # a straight edge across the gap bends in mm: 2 columns over slices 3 -> 4 (5 mm), then
    # 2 columns over slices 4 -> 5 (2.5 mm)
    bent = math.hypot(2 * COL_MM, 2 * STEP) + math.hypot(2 * COL_MM, STEP)
    assert rows[diagonal]["length_mm"] == pytest.approx(bent)
    # the box spans slices 1 -> 5 (k 1 -> 6): 4 columns x 12.5 mm
    assert rows[box]["area_mm2"] == pytest.approx(4 * COL_MM * 12.5)
    assert rows[box]["area_px"] == 16.0
    # the triangle's hypotenuse (4, 1) -> (0, 5) crosses slices 2, 3, 4 at columns 3, 2, 1
    z = dict(enumerate(HEADER_Z))
    outline = [(0, z[1]), (4, z[1]), (3, z[2]), (2, z[3]), (1, z[4]), (0, z[5])]
    assert rows[tri]["area_mm2"] == pytest.approx(shoelace([(COL_MM * u, w) for u, w in outline]))
    # a mask pixel covers its slice's extent: halfway to the slices on either side
    extent_3 = (HEADER_Z[4] - HEADER_Z[2]) / 2  # 3.75 mm
    extent_4 = (HEADER_Z[5] - HEADER_Z[3]) / 2  # 3.75 mm
    assert rows[mask]["area_px"] == 4.0
    assert rows[mask]["area_mm2"] == pytest.approx(2 * COL_MM * (extent_3 + extent_4))
    # a matrix alone spaces the slices evenly (what the old table did on every series)
    flat = {r["uuid"]: r for r in labels.to_records(gap_series.affine)}
    assert flat[line]["length_mm"] == pytest.approx(10.0)
    assert flat[mask]["area_mm2"] == pytest.approx(4 * COL_MM * STEP)


def test_an_evenly_spaced_series_gives_what_its_affine_gives(tmp_path: Path) -> None:
    make_series(tmp_path / "even", 6)
    with open_series(tmp_path / "even") as series:
        assert series_slice_positions(series) == [mm(0, 0, Z0 + STEP * k) for k in range(6)]
        geometry = check_geometry(series, None, 6)
        assert geometry is not None and geometry.regular
        labels = Labels(series, ontology())
        labels.add_polyline("Vessel", 2, [(1, 1), (1, 4)], plane="sagittal")
        labels.add_box("Lesion", 3, (1, 1, 4, 4), plane="coronal")
        assert labels.to_records(series) == labels.to_records(series.affine)
    # arrays and NIfTI volumes have no headers: their affine is their geometry
    assert series_slice_positions(np.zeros((2, 3, 3))) is None


def test_bad_slice_positions_are_refused(gap_series: Series) -> None:
    labels = Labels(gap_series, ontology())
    labels.add_point("Landmark", 1, (1, 1))
    affine = gap_series.affine
    with pytest.raises(LabelError, match="slice_positions: 2 positions for a series of 7"):
        labels.to_records(affine, slice_positions=[(0, 0, 0), (0, 0, 1)])
    bad = [(0.0, 0.0, float(z)) for z in range(7)]
    bad[3] = (0.0, math.nan, 1.0)  # type: ignore[assignment]
    with pytest.raises(LabelError, match=r"slice_positions\[3\]: expected three finite"):
        labels.to_records(affine, slice_positions=bad)
    with pytest.raises(LabelError, match="slice_positions: needs an affine"):
        Labels.from_json(labels.to_json()).to_records(slice_positions=[None] * 7)
    with pytest.raises(LabelError, match="slice_positions: expected one"):
        labels.to_records(affine, slice_positions="1, 2, 3")
    # a slice without a position is placed by the affine
    partial: list[tuple[float, float, float] | None] = [mm(0, 0, z) for z in HEADER_Z]
    partial[6] = None
    row = labels.to_records(affine, slice_positions=partial)[0]
    assert row["points_mm"] == [pytest.approx(mm(1, 1, Z0 + STEP))]


def test_the_series_gives_its_slice_positions(gap_series: Series, tmp_path: Path) -> None:
    """``Series.slice_positions`` are the headers' positions in series order; the page gets
    them (``series_info["slice_origins"]``) only when the affine would misplace a slice."""
    from dicom_annot_widget.widget.annotator import series_info

    positions = gap_series.slice_positions
    assert positions is not None
    assert [p[2] for p in positions if p is not None] == pytest.approx(HEADER_Z)
    origins = series_info(gap_series, "s0")["slice_origins"]
    assert origins is not None and len(origins) == len(gap_series)
    assert [o[2] for o in origins] == pytest.approx(HEADER_Z)
    make_series(tmp_path / "even", 5)
    with open_series(tmp_path / "even") as even:
        assert even.slice_positions is not None and len(even.slice_positions) == 5
        assert series_info(even, "s0")["slice_origins"] is None
    array_series = open_series(np.zeros((3, 4, 4), dtype=np.int16))
    assert array_series.slice_positions is None
    assert series_info(array_series, "s0")["slice_origins"] is None


def test_a_series_without_pixel_spacing_gives_no_millimetres(tmp_path: Path) -> None:
    """QA: without PixelSpacing the table gave pixel values labelled as mm, with no warning,
    while the page says px (pixel spacing unknown)."""
    make_series(tmp_path / "nosp", 4, pixel_spacing=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loader's own "no pixel spacing" warning
        series = open_series(tmp_path / "nosp")
    assert not series.spacing_known
    labels = Labels(series, ontology())
    line = labels.add_polyline("Vessel", 1, [(1, 1), (7, 9)])
    box = labels.add_box("Lesion", 1, (2, 2, 8, 7))
    with pytest.warns(DicomAnnotWarning, match="no pixel spacing"):
        rows = {r["uuid"]: r for r in labels.to_records(series)}
    assert rows[line]["length_px"] == pytest.approx(10.0) and rows[line]["length_mm"] is None
    assert rows[box]["area_px"] == pytest.approx(30.0) and rows[box]["area_mm2"] is None
    assert rows[line]["points_mm"] is None
    # an affine given as a matrix is the caller's word for the spacing: mm values
    matrix = {r["uuid"]: r for r in labels.to_records(series.affine)}
    assert matrix[line]["length_mm"] == pytest.approx(10.0)


def test_measurements_table_gives_values_in_mm_on_anisotropic_pixels(tmp_path: Path) -> None:
    """A distance, an area and an angle with pixels 0.5 mm (rows) x 0.8 mm (columns):
    lengths, areas and angles are measured in mm, as the page draws them."""
    make_series(tmp_path / "aniso", 4, pixel_spacing=[0.5, 0.8])
    series = open_series(tmp_path / "aniso")
    labels = Labels(series, ontology())
    d = labels.add_measurement("distance", 1, [(0, 0), (5, 6)], label="d")
    a = labels.add_measurement("area", 2, [(0, 0), (5, 0), (5, 5), (0, 5)])
    g = labels.add_measurement("angle", 3, [(5, 0), (0, 0), (5, 5)])
    rows = {r["uuid"]: r for r in labels.measurements_to_records(series)}
    assert set(rows) == {d, a, g}
    # 5 columns x 0.8 = 4 mm, 6 rows x 0.5 = 3 mm
    assert rows[d]["length_mm"] == pytest.approx(5.0)
    assert rows[d]["length_px"] == pytest.approx(math.hypot(5, 6))
    assert rows[d]["label"] == "d" and rows[d]["points_voxel"] == [(0, 0, 1), (5, 6, 1)]
    assert rows[d]["area_mm2"] is None and rows[d]["angle_deg"] is None
    assert rows[a]["area_px"] == pytest.approx(25.0) and rows[a]["area_mm2"] == pytest.approx(10.0)
    assert rows[g]["angle_deg"] == pytest.approx(math.degrees(math.atan2(2.5, 4)))
    assert rows[g]["points_mm"][1] == pytest.approx(series.affine[:3, 3] + series.affine[:3, 2] * 3)
    frame = labels.measurements_to_dataframe(series)
    assert sorted(frame["kind"]) == ["angle", "area", "distance"]
    # the series is the image too: the area's statistics are those of the pixels inside it
    inside = polygons_to_mask(np.array([(0, 0), (5, 0), (5, 5), (0, 5)], float), (12, 10))
    values = series.get_slice(2)[inside].astype(np.float64)
    assert rows[a]["pixels"] == inside.sum() == 25
    assert rows[a]["mean"] == pytest.approx(values.mean())
    assert rows[a]["std"] == pytest.approx(values.std())
    assert (rows[a]["min"], rows[a]["max"]) == (values.min(), values.max())
    assert rows[d]["mean"] is None and rows[g]["pixels"] is None  # areas only
    # an array works as the image too; a matrix affine gives no statistics
    by_array = {r["uuid"]: r for r in labels.measurements_to_records(image=series.array)}
    assert by_array[a]["mean"] == pytest.approx(values.mean())
    plain_affine = {r["uuid"]: r for r in labels.measurements_to_records(series.affine)}
    assert plain_affine[a]["mean"] is None and plain_affine[a]["area_mm2"] == pytest.approx(10.0)
    with pytest.raises(LabelError, match=r"image: expected an array of shape \(4, 12, 10\)"):
        labels.measurements_to_records(image=np.zeros((4, 12, 9)))
    # without a geometry: pixels only; angles measured in pixels
    plain = Labels.from_json(labels.to_json())
    rows = {r["uuid"]: r for r in plain.measurements_to_records()}
    assert rows[d]["length_mm"] is None and rows[d]["points_mm"] is None
    assert rows[g]["angle_deg"] == pytest.approx(45.0)


def test_measurements_table_without_pixel_spacing_warns_and_gives_pixels(tmp_path: Path) -> None:
    make_series(tmp_path / "nosp", 4, pixel_spacing=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = open_series(tmp_path / "nosp")
    labels = Labels(series, ontology())
    d = labels.add_measurement("distance", 1, [(1, 1), (4, 5)])
    with pytest.warns(DicomAnnotWarning, match="no pixel spacing"):
        (row,) = labels.measurements_to_records(series)
    assert row["uuid"] == d and row["length_px"] == pytest.approx(5.0)
    assert row["length_mm"] is None and row["points_mm"] is None


def test_labels_of_an_opened_series_default_to_its_geometry_and_pixels(tmp_path: Path) -> None:
    """QA: a widget's labels (made from its series) gave no mm values and pixel-space angles
    without arguments, while the page showed mm. Labels made from an opened series now
    default to it: the same rows as passing the series."""
    make_series(tmp_path / "aniso", 4, pixel_spacing=[0.5, 0.8])
    series = open_series(tmp_path / "aniso")
    labels = Labels(series, ontology())
    labels.add_polyline("Vessel", 1, [(0, 0), (5, 6)])
    labels.add_measurement("area", 2, [(0, 0), (5, 0), (5, 5), (0, 5)])
    labels.add_measurement("angle", 3, [(5, 0), (0, 0), (5, 5)])
    assert labels.to_records() == labels.to_records(series)
    assert labels.measurements_to_records() == labels.measurements_to_records(series)
    area, angle = sorted(labels.measurements_to_records(), key=lambda r: r["kind"] != "area")
    assert area["area_mm2"] == pytest.approx(10.0) and area["pixels"] == 25
    assert angle["angle_deg"] == pytest.approx(math.degrees(math.atan2(2.5, 4)))
    # a matrix set as the affine replaces it (no slice positions, no pixels)
    labels.affine = series.affine
    (by_matrix,) = [r for r in labels.measurements_to_records() if r["kind"] == "area"]
    assert by_matrix["pixels"] is None and by_matrix["area_mm2"] == pytest.approx(10.0)


# the thickness each slice of gap_series stands for: 2.5 mm, except around the missing slice
# (between k = 3 and k = 4 the headers are 5 mm apart: each has half of that gap)
GAP_THICKNESS = [2.5, 2.5, 2.5, 3.75, 3.75, 2.5, 2.5]


def test_segment_statistics_count_voxels_and_volumes_with_each_slices_thickness(
    gap_series: Series,
) -> None:
    """Slicer's Segment Statistics, per object: the voxels of its keyframes (centre inside,
    as the page draws them), each with its own slice's thickness; HU statistics of those
    voxels equal NumPy's; slices of the range without a keyframe are counted for the user."""
    labels = Labels(gap_series, ontology())
    masks = {}
    for k, (r0, r1) in {2: (2, 6), 3: (3, 9), 4: (1, 4)}.items():
        m = np.zeros((12, 10), bool)
        m[r0:r1, 2:7] = True
        masks[k] = m
    tumour = labels.add_mask("Tumour", masks[2], slice=2)
    for k in (3, 4):
        labels.set_mask_slice(tumour, k, masks[k])
    ring = [(1.0, 1.0), (8.0, 2.0), (6.0, 9.0)]
    liver = labels.add_polygon("Liver", 5, ring)
    lesion = labels.add_box("Lesion", 0, (2, 2, 6, 5))
    labels.set_keyframe(lesion, 6, (2, 2, 6, 5))
    labels.add_polyline("Vessel", 1, [(1, 1), (7, 9)])  # no region: no row
    rows = {r["uuid"]: r for r in labels.statistics_to_records()}
    assert set(rows) == {tumour, liver, lesion}
    pixel = ROW_MM * COL_MM
    t = rows[tumour]
    assert t["voxels"] == sum(int(m.sum()) for m in masks.values())
    volume = sum(int(m.sum()) * pixel * GAP_THICKNESS[k] for k, m in masks.items())
    assert t["volume_mm3"] == pytest.approx(volume) and t["volume_ml"] == pytest.approx(
        volume / 1e3
    )
    values = np.concatenate([gap_series.get_slice(k)[m] for k, m in masks.items()]).astype(float)
    assert t["mean"] == pytest.approx(values.mean()) and t["std"] == pytest.approx(values.std())
    assert (t["min"], t["median"], t["max"]) == (values.min(), np.median(values), values.max())
    assert (t["first_slice"], t["last_slice"], t["keyframes"]) == (2, 4, 3)
    assert t["slices_without_keyframe"] == 0 and t["feature_name"] == "Tumour"
    inside = polygons_to_mask(np.array(ring), (12, 10))
    assert rows[liver]["voxels"] == inside.sum() > 0
    assert rows[liver]["volume_mm3"] == pytest.approx(inside.sum() * pixel * 2.5)
    assert rows[liver]["mean"] == pytest.approx(gap_series.get_slice(5)[inside].mean())
    # a box track on slices 0 and 6 only: the five slices between count nothing, and say so
    box_px = polygons_to_mask(np.array([(2, 2), (6, 2), (6, 5), (2, 5)], float), (12, 10)).sum()
    assert rows[lesion]["voxels"] == 2 * box_px
    assert rows[lesion]["slices_without_keyframe"] == 5 and rows[lesion]["manual_keyframes"] == 2
    labels.interpolate(lesion)
    filled = {r["uuid"]: r for r in labels.statistics_to_records()}[lesion]
    assert filled["voxels"] == 7 * box_px and filled["keyframes"] == 7
    assert filled["manual_keyframes"] == 2 and filled["slices_without_keyframe"] == 0
    assert filled["volume_mm3"] == pytest.approx(box_px * pixel * sum(GAP_THICKNESS))
    frame = labels.statistics_to_dataframe()
    assert list(frame.columns)[:3] == ["uuid", "object_id", "name"] and len(frame) == 3


def test_segment_statistics_of_a_coronal_polygon_count_each_row_with_its_slice(
    gap_series: Series,
) -> None:
    """On a coronal plane each image row is one slice of the stack: its voxels take that
    slice's thickness."""
    labels = Labels(gap_series, ontology())
    ring = [(1.0, 0.2), (8.0, 0.2), (8.0, 5.8), (1.0, 5.8)]  # rows (slices) 1..5
    uuid = labels.add_polygon("Liver", 6, ring, plane="coronal")
    (row,) = labels.statistics_to_records()
    inside = polygons_to_mask(np.array(ring), (7, 10))
    per_slice = inside.sum(axis=1)
    assert row["uuid"] == uuid and row["voxels"] == inside.sum()
    expected = sum(int(c) * ROW_MM * COL_MM * GAP_THICKNESS[k] for k, c in enumerate(per_slice))
    assert row["volume_mm3"] == pytest.approx(expected)
    assert row["mean"] == pytest.approx(gap_series.array[:, 6, :][inside].mean())


def test_segment_statistics_without_pixel_spacing_or_image(tmp_path: Path) -> None:
    make_series(tmp_path / "nosp", 4, pixel_spacing=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = open_series(tmp_path / "nosp")
    labels = Labels(series, ontology())
    box = labels.add_box("Lesion", 1, (2, 2, 8, 7))
    with pytest.warns(DicomAnnotWarning, match="no pixel spacing"):
        (row,) = labels.statistics_to_records()
    assert row["uuid"] == box and row["voxels"] == 30
    assert row["volume_mm3"] is None and row["volume_ml"] is None
    assert row["mean"] is not None  # the pixels are known, the millimetres are not
    plain = Labels.from_json(labels.to_json())
    (row,) = plain.statistics_to_records()
    assert row["voxels"] == 30 and row["volume_mm3"] is None and row["mean"] is None
    with pytest.raises(LabelError, match="image: expected an array"):
        labels.statistics_to_records(image=np.zeros((4, 12, 9)))


def test_segment_statistics_tell_pending_predictions_from_accepted_ones(
    gap_series: Series,
) -> None:
    """QA 24a observation: statistics_to_dataframe had no review column, so a model's pending
    predictions and the accepted ones could not be told apart in it."""
    labels = Labels(gap_series, ontology())
    box = [(2.0, 2.0), (6.0, 2.0), (6.0, 5.0), (2.0, 5.0)]
    manual = labels.add_polygon("Liver", 1, box)
    predicted = labels.add_polygon("Liver", 2, box, source="unet", confidence=0.8)
    accepted = labels.add_polygon("Liver", 3, box, source="unet", confidence=0.9)
    labels.accept([accepted])
    rows = {r["uuid"]: r for r in labels.statistics_to_records()}
    assert [(rows[u]["review"], rows[u]["confidence"]) for u in (manual, predicted, accepted)] == [
        (None, None),
        ("pending", 0.8),
        ("accepted", 0.9),
    ]
    assert "review" in labels.statistics_to_dataframe().columns
