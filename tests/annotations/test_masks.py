import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.annotations import AnswerInvalid, decode_mask, encode_mask
from tests.annotations.helpers import HEIGHT, WIDTH, check, mask_answer, png_base64, refuse, spec

ROADS = spec("segmentation", ["road", "car", "sky"])
LOC = ["answer", "mask_png_base64"]


def a_mask() -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    mask[10:20, 30:60] = 1
    mask[40:, :] = 3
    return mask


def only_error(answer: Any, **size: int) -> str:
    [error] = refuse(ROADS, answer, **size)
    assert error["loc"] == LOC
    return str(error["msg"])


class TestValidateSegmentation:
    def test_good_mask_round_trips(self) -> None:
        mask = a_mask()
        normalised = check(ROADS, mask_answer(mask))
        assert list(normalised) == ["mask_png_base64"]
        np.testing.assert_array_equal(decode_mask(normalised, WIDTH, HEIGHT), mask)

    def test_palette_mask_values_are_the_indices(self) -> None:
        image = Image.frombytes("P", (WIDTH, HEIGHT), a_mask().tobytes())
        image.putpalette([255, 0, 0] * 256)  # every index looks alike; the index is the label
        normalised = check(ROADS, {"mask_png_base64": png_base64(image)})
        np.testing.assert_array_equal(decode_mask(normalised, WIDTH, HEIGHT), a_mask())

    def test_data_url_and_line_breaks_are_accepted(self) -> None:
        text = mask_answer(a_mask())["mask_png_base64"]
        wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
        check(ROADS, {"mask_png_base64": "data:image/png;base64," + wrapped})

    def test_value_above_label_count_is_refused(self) -> None:
        mask = a_mask()
        mask[5, 7] = 4
        msg = only_error(mask_answer(mask))
        assert "pixel (7, 5) has value 4" in msg

    @pytest.mark.parametrize(("width", "height"), [(WIDTH + 1, HEIGHT), (WIDTH, HEIGHT - 1)])
    def test_wrong_size_is_refused(self, width: int, height: int) -> None:
        msg = only_error(mask_answer(a_mask()), width=width, height=height)
        assert f"mask is {WIDTH}x{HEIGHT} pixels" in msg

    def test_rgb_is_refused(self) -> None:
        rgb = Image.fromarray(np.stack([a_mask()] * 3, axis=-1))
        assert "got 8-bit RGB" in only_error({"mask_png_base64": png_base64(rgb)})

    def test_16_bit_is_refused(self) -> None:
        deep = Image.fromarray(a_mask().astype(np.uint16))
        assert "got 16-bit grayscale" in only_error({"mask_png_base64": png_base64(deep)})

    def test_grayscale_with_alpha_is_refused(self) -> None:
        image = Image.fromarray(a_mask()).convert("LA")
        assert "grayscale with alpha" in only_error({"mask_png_base64": png_base64(image)})

    @pytest.mark.parametrize("text", ["not base64!", "QUJ", "ÿÿÿÿ", "QQ"])
    def test_bad_base64_is_refused(self, text: str) -> None:
        assert "base64" in only_error({"mask_png_base64": text})

    def test_other_image_format_is_refused(self) -> None:
        gif = Image.fromarray(a_mask())
        buffer = io.BytesIO()
        gif.save(buffer, format="GIF")
        text = base64.b64encode(buffer.getvalue()).decode()
        assert "not a PNG" in only_error({"mask_png_base64": text})

    def test_truncated_png_is_refused(self) -> None:
        data = base64.b64decode(mask_answer(a_mask())["mask_png_base64"])
        text = base64.b64encode(data[: len(data) // 2]).decode()
        assert "corrupt PNG" in only_error({"mask_png_base64": text})

    def test_header_only_garbage_is_refused(self) -> None:
        text = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()
        assert "corrupt PNG" in only_error({"mask_png_base64": text})

    @pytest.mark.parametrize("value", [None, 12, ["abc"]])
    def test_non_string_is_refused(self, value: object) -> None:
        assert "base64 string" in only_error({"mask_png_base64": value})


class TestDecodeMask:
    def test_raises_answer_invalid(self) -> None:
        with pytest.raises(AnswerInvalid):
            decode_mask({"mask": "x"}, WIDTH, HEIGHT)

    def test_does_not_check_label_values(self) -> None:
        mask = np.full((HEIGHT, WIDTH), 200, dtype=np.uint8)
        assert decode_mask(mask_answer(mask), WIDTH, HEIGHT).max() == 200


class TestEncodeMask:
    @pytest.mark.parametrize("array", [np.zeros((2, 2), np.uint16), np.zeros((2, 2, 3), np.uint8)])
    def test_refuses_other_arrays(self, array: np.ndarray) -> None:
        with pytest.raises(ValueError, match="2-D uint8"):
            encode_mask(array)
