import base64

import pytest

from app.images import CorruptImage, ImageLimits, ImageTooLarge, decode_base64_image
from tests.images.factory import make_image

PNG = make_image("PNG")
ENCODED = base64.b64encode(PNG).decode()


class TestDecodeBase64Image:
    def test_round_trip(self):
        assert decode_base64_image(ENCODED, ImageLimits()) == PNG

    def test_data_url_prefix_is_accepted(self):
        assert decode_base64_image("data:image/png;base64," + ENCODED) == PNG

    def test_wrapped_lines_are_accepted(self):
        wrapped = base64.encodebytes(PNG).decode()
        assert "\n" in wrapped
        assert decode_base64_image(wrapped) == PNG

    def test_missing_padding_is_tolerated(self):
        data = PNG[:-1] if len(PNG) % 3 == 0 else PNG
        text = base64.b64encode(data).decode().rstrip("=")
        assert decode_base64_image(text) == data

    @pytest.mark.parametrize(
        "text", ["not base64!", ENCODED[:-4] + "*" * 4, "Zm9v" + "é" * 4, "A", ENCODED + "="]
    )
    def test_bad_base64_is_422(self, text):
        with pytest.raises(CorruptImage, match="not valid base64") as caught:
            decode_base64_image(text)
        assert caught.value.status == 422

    @pytest.mark.parametrize("text", ["", "   \n", "data:image/png;base64,"])
    def test_empty_is_422(self, text):
        with pytest.raises(CorruptImage, match="empty"):
            decode_base64_image(text)

    def test_size_is_capped_from_the_length_before_decoding(self, monkeypatch):
        def must_not_decode(*_args, **_kwargs):
            raise AssertionError("decoded before the size check")

        monkeypatch.setattr(base64, "b64decode", must_not_decode)
        for text in ("A" * (5 * 1024 * 1024), "A" * 1368):  # cheap pre-check, then exact check
            with pytest.raises(ImageTooLarge) as caught:
                decode_base64_image(text, ImageLimits(max_file_bytes=1024))
            assert caught.value.status == 413

    def test_cap_is_exact_after_whitespace_is_removed(self):
        limits = ImageLimits(max_file_bytes=len(PNG))
        assert decode_base64_image(base64.encodebytes(PNG).decode(), limits) == PNG
        with pytest.raises(ImageTooLarge):
            decode_base64_image(ENCODED, ImageLimits(max_file_bytes=len(PNG) - 1))
