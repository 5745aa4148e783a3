"""apply_window: DICOM's LINEAR window for integer values, LINEAR_EXACT for the others."""

from __future__ import annotations

import numpy as np
import pytest

from dicom_annot_widget.kernels.windowing import apply_window


def test_integer_values_use_linear() -> None:
    hu = np.array([-1000, -160, -159, 40, 239, 240, 3000], dtype=np.int16)
    grey = apply_window(hu, 40, 400)
    assert grey.tolist()[0] == 0 and grey.tolist()[-1] == 255
    # LINEAR's half-unit offset: c - 0.5 - (w - 1) / 2 = -160 is the last black value
    assert grey[1] == 0 and grey[2] > 0
    assert grey[3] == 128


def test_a_float_image_in_0_1_is_a_ramp_not_white() -> None:
    ramp = np.linspace(0, 1, 101, dtype=np.float32)
    grey = apply_window(ramp, 0.5, 1.0)
    assert grey[0] == 0 and grey[50] == 128 and grey[-1] == 255
    assert np.all(np.diff(grey.astype(int)) >= 0) and len(np.unique(grey)) > 90
    # the integer rule would make it white: widths below 1 count as 1 there
    assert set(apply_window(ramp, 0.5, 1.0, exact=False)[60:].tolist()) == {255}


def test_exact_takes_any_positive_width_and_refuses_others() -> None:
    v = np.array([0.0019, 0.002, 0.0021])
    assert apply_window(v, 0.002, 0.0001).tolist() == [0, 128, 255]
    with pytest.raises(ValueError, match="positive"):
        apply_window(v, 0.002, 0.0, exact=True)
