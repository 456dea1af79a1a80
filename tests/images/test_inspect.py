import hashlib
import time
import warnings

import pytest
from PIL import Image

from app.images import (
    CorruptImage,
    ImageBomb,
    ImageError,
    ImageLimits,
    ImageTooLarge,
    UnsupportedImageType,
    inspect_image,
    sniff_media_type,
)
from tests.images.factory import make_animation, make_image, png_claiming


class TestAcceptedImages:
    @pytest.mark.parametrize(
        ("fmt", "media_type"),
        [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
    )
    def test_describes_a_real_image(self, fmt, media_type):
        data = make_image(fmt, (40, 30))
        info = inspect_image(data, ImageLimits())
        assert info.media_type == media_type
        assert (info.width, info.height) == (40, 30)
        assert info.size_bytes == len(data)
        assert info.sha256 == hashlib.sha256(data).hexdigest()

    def test_limits_default_when_omitted(self):
        assert inspect_image(make_image("PNG")).media_type == "image/png"

    def test_type_comes_from_content_not_name(self):
        # There is no name to go on at all: PNG bytes are PNG, whatever the upload was called.
        assert sniff_media_type(make_image("PNG")[:16]) == "image/png"
        assert sniff_media_type(b"\x89PNX") is None

    def test_multi_picture_jpeg_is_taken_as_its_first_picture(self):
        info = inspect_image(make_animation("MPO"))
        assert (info.media_type, info.width, info.height) == ("image/jpeg", 8, 8)


class TestRefusedTypes:
    @pytest.mark.parametrize(
        ("data", "named"),
        [
            (make_image("GIF"), "GIF"),
            (make_image("BMP"), "BMP"),
            (make_image("TIFF"), "TIFF"),
            (b"%PDF-1.7\n1 0 obj\n", "PDF"),
            (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC"),
            (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        ],
    )
    def test_other_formats_are_415_and_named(self, data, named):
        with pytest.raises(UnsupportedImageType) as caught:
            inspect_image(data)
        assert caught.value.status == 415
        assert named in caught.value.detail

    def test_text_is_415(self):
        with pytest.raises(UnsupportedImageType, match="not a JPEG, PNG or WebP"):
            inspect_image(b"hello, this is not an image at all")

    @pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
    def test_animated_png_and_webp_are_415(self, fmt):
        with pytest.raises(UnsupportedImageType, match="animated"):
            inspect_image(make_animation(fmt))


class TestCorruptImages:
    @pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
    def test_truncated_file_is_422(self, fmt):
        data = make_image(fmt, (64, 64), noisy=True)
        with pytest.raises(CorruptImage) as caught:
            inspect_image(data[: len(data) * 2 // 3])
        assert caught.value.status == 422
        assert "truncated or corrupt" in caught.value.detail or "header" in caught.value.detail

    def test_truncated_pixel_data_is_caught_by_decoding(self):
        data = make_image("PNG", (64, 64), noisy=True)
        with pytest.raises(CorruptImage, match="could not be decoded"):
            inspect_image(data[: len(data) // 2])

    @pytest.mark.parametrize("magic", [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP"])
    def test_magic_followed_by_garbage_is_422_in_plain_words(self, magic):
        with pytest.raises(CorruptImage, match="the file is corrupt"):
            inspect_image(magic + b"\x00garbage" * 10)

    def test_empty_is_422(self):
        with pytest.raises(CorruptImage, match="empty"):
            inspect_image(b"")


class TestSizeAndPixelLimits:
    def test_byte_cap_is_413_before_anything_else(self):
        with pytest.raises(ImageTooLarge) as caught:
            inspect_image(b"not even an image" * 10, ImageLimits(max_file_bytes=100))
        assert caught.value.status == 413
        assert "100" in caught.value.detail

    @pytest.mark.parametrize(
        ("width", "height"),
        [
            (8_000, 8_000),  # over our 50 M limit, under Pillow's own: our check
            (10_000, 10_000),  # Pillow's warning range: the warning is an error here
            (100_000, 100_000),  # Pillow's error range
        ],
    )
    def test_pixel_bomb_is_422_without_decoding(self, width, height):
        started = time.perf_counter()
        with pytest.raises(ImageBomb) as caught:
            inspect_image(png_claiming(width, height))
        # Decoding 10^10 pixels would take minutes and gigabytes; refusing takes microseconds.
        assert time.perf_counter() - started < 0.5
        assert caught.value.status == 422
        assert f"{width * height:,} pixels" in caught.value.detail
        assert "50,000,000" in caught.value.detail

    def test_own_limit_applies_below_pillows(self):
        with pytest.raises(ImageBomb, match="the limit is 1,000 pixels"):
            inspect_image(make_image("PNG", (40, 30)), ImageLimits(max_pixels=1_000))
        assert inspect_image(make_image("PNG", (40, 25)), ImageLimits(max_pixels=1_000))

    def test_pillows_warning_is_an_error_even_when_our_limit_is_higher(self):
        limits = ImageLimits(max_pixels=500_000_000)
        with pytest.raises(ImageBomb, match=f"{Image.MAX_IMAGE_PIXELS:,}"):
            inspect_image(png_claiming(10_000, 10_000), limits)

    def test_warning_filters_are_restored(self):
        before = list(warnings.filters)
        with pytest.raises(ImageBomb):
            inspect_image(png_claiming(10_000, 10_000))
        assert warnings.filters == before


class TestErrorStatuses:
    def test_every_error_carries_status_and_detail(self):
        error = ImageTooLarge("too big")
        assert isinstance(error, ImageError)
        assert (error.status, error.detail, str(error)) == (413, "too big", "too big")
