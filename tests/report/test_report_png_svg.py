"""The tiny PNG encoder (checked by decoding with Pillow) and the SVG chart builders."""

from __future__ import annotations

import io
import math
from html.parser import HTMLParser

import numpy as np
import pytest

from ember.report.png import encode_png, png_data_uri, to_uint8_image
from ember.report.svg import Series, confusion_matrix_svg, line_chart, nice_ticks


def pillow_decode(data: bytes) -> np.ndarray:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return np.asarray(image)


@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (28, 28), (5, 13), (7, 3, 3), (16, 9, 3)])
def test_png_round_trips_through_pillow(shape):
    pixels = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    np.testing.assert_array_equal(pillow_decode(encode_png(pixels)), pixels)


def test_png_data_uri_and_scaling():
    uri = png_data_uri(to_uint8_image(np.array([[0.0, 0.5], [1.0, 2.0]])))
    assert uri.startswith("data:image/png;base64,")
    import base64

    np.testing.assert_array_equal(pillow_decode(base64.b64decode(uri.split(",")[1])), [[0, 128], [255, 255]])
    np.testing.assert_array_equal(to_uint8_image(np.array([-1.0, np.nan])), [0, 0])


def test_png_rejects_bad_input():
    with pytest.raises(TypeError, match="uint8"):
        encode_png(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        encode_png(np.zeros((2, 2, 4), np.uint8))
    with pytest.raises(ValueError, match="non-empty"):
        encode_png(np.zeros((0, 3), np.uint8))


def test_nice_ticks_cover_the_range_with_round_steps():
    for low, high in [(0, 1), (0.013, 0.0871), (-3, 250), (1, 10), (2.5, 2.5000001)]:
        ticks = nice_ticks(low, high)
        assert ticks and all(low - 1e-9 <= t <= high + 1e-9 for t in ticks)
        if len(ticks) > 1:
            steps = np.diff(ticks)
            assert np.allclose(steps, steps[0])
            mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
            assert any(
                math.isclose(mantissa, m, rel_tol=1e-5) for m in (1, 2, 2.5, 5, 10)
            )  # 10: a step of 0.01 read as 0.00999...
    assert nice_ticks(0, float("nan")) == []


class Shapes(HTMLParser):
    def __init__(self, svg):
        super().__init__()
        self.tags = []
        self.feed(svg)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_line_chart_breaks_lines_at_missing_values():
    series = [Series("train loss", [1, 2, 3, 4, 5], [1.0, 0.5, float("nan"), 0.3, 0.2], "#000")]
    shapes = Shapes(line_chart(series, title="Loss", x_label="epoch", y_label="loss")).tags
    lines = [a for t, a in shapes if t == "polyline"]
    assert len(lines) == 2 and [len(a["points"].split()) for a in lines] == [2, 2]
    assert len([1 for t, _ in shapes if t == "circle"]) == 4  # no marker for the NaN


def test_confusion_matrix_svg_cells():
    matrix = np.array([[5, 1], [0, 4]])
    shapes = Shapes(confusion_matrix_svg(matrix, ["a", "b"])).tags
    cells = {(int(a["data-true"]), int(a["data-pred"])): int(a["data-count"]) for t, a in shapes if t == "rect"}
    assert cells == {(0, 0): 5, (0, 1): 1, (1, 0): 0, (1, 1): 4}
    with pytest.raises(ValueError, match="does not fit 3 class names"):
        confusion_matrix_svg(matrix, ["a", "b", "c"])
