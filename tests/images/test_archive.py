import time

import pytest

from app.images import CorruptImage, ImageLimits, ImageTooLarge, inspect_image, read_zip, safe_name
from tests.images.factory import make_image, make_zip, patch_zip_headers

MiB = 1024 * 1024


def reasons(result):
    return {entry["name"]: entry["reason"] for entry in result.skipped}


class TestReadZip:
    def test_takes_images_and_reports_the_rest(self):
        png, jpeg, webp = make_image("PNG"), make_image("JPEG"), make_image("WEBP")
        data = make_zip(
            [
                ("photos/a.png", png),
                ("photos/b.jpeg", jpeg),
                ("c.webp", webp),
                ("really-a-png.jpg", png),
                ("notes.txt", b"just some text"),
                ("inner.zip", make_zip([("x.png", png)])),
                ("anim.gif", make_image("GIF")),
                ("empty.png", b""),
            ],
            dirs=("photos/",),
        )
        result = read_zip(data, ImageLimits())
        assert [name for name, _ in result.images] == [
            "photos/a.png",
            "photos/b.jpeg",
            "c.webp",
            "really-a-png.jpg",
        ]
        assert dict(result.images)["really-a-png.jpg"] == png
        assert inspect_image(dict(result.images)["really-a-png.jpg"]).media_type == "image/png"
        skipped = reasons(result)
        assert set(skipped) == {"notes.txt", "inner.zip", "anim.gif", "empty.png"}
        assert "not a JPEG, PNG or WebP" in skipped["notes.txt"]
        assert "nested zip" in skipped["inner.zip"]
        assert "GIF" in skipped["anim.gif"]

    def test_macos_metadata_dotfiles_and_directories_are_dropped_silently(self):
        png = make_image("PNG")
        data = make_zip(
            [
                ("__MACOSX/._a.png", b"\x00\x05\x16\x07resource fork"),
                (".DS_Store", b"\x00\x00\x00\x01Bud1"),
                ("photos/.hidden.png", png),
                ("a.png", png),
            ],
            dirs=("photos/", "__MACOSX/"),
        )
        result = read_zip(data)
        assert [name for name, _ in result.images] == ["a.png"]
        assert result.skipped == []

    def test_traversal_names_lose_their_dot_dot_parts(self):
        png = make_image("PNG")
        data = make_zip([("../../etc/x.png", png), ("/abs/y.png", png), ("..\\..\\z.png", png)])
        names = [name for name, _ in read_zip(data).images]
        assert names == ["etc/x.png", "abs/y.png", "z.png"]

    def test_zip_bomb_is_413_once_the_bytes_read_pass_the_cap(self):
        bomb = make_zip([("bomb.png", b"\x89PNG\r\n\x1a\n" + bytes(16 * MiB))])
        assert len(bomb) < 100_000
        started = time.perf_counter()
        with pytest.raises(ImageTooLarge, match="expands to more than") as caught:
            read_zip(bomb, ImageLimits(max_zip_uncompressed_bytes=1 * MiB))
        assert caught.value.status == 413
        assert time.perf_counter() - started < 1.0

    def test_total_cap_counts_across_entries(self):
        members = [(f"{i}.png", b"\x89PNG\r\n\x1a\n" + bytes(300_000)) for i in range(4)]
        with pytest.raises(ImageTooLarge):
            read_zip(make_zip(members), ImageLimits(max_zip_uncompressed_bytes=1 * MiB))

    def test_a_size_header_that_lies_low_does_not_let_more_through(self):
        honest = make_zip([("big.png", b"\x89PNG\r\n\x1a\n" + bytes(2 * MiB))])
        lying = patch_zip_headers(honest, file_size=1_000)
        result = read_zip(lying, ImageLimits(max_file_bytes=10_000))
        assert result.images == []
        assert "damaged" in reasons(result)["big.png"]

    def test_an_oversized_entry_is_skipped_not_fatal(self):
        data = make_zip(
            [("big.png", make_image("PNG", (64, 64), noisy=True)), ("ok.png", make_image("PNG"))]
        )
        result = read_zip(data, ImageLimits(max_file_bytes=2_000))
        assert [name for name, _ in result.images] == ["ok.png"]
        assert "per-image limit" in reasons(result)["big.png"]

    def test_too_many_files_is_413(self):
        png = make_image("PNG")
        data = make_zip([(f"{i}.png", png) for i in range(4)])
        with pytest.raises(ImageTooLarge, match="holds 4 files"):
            read_zip(data, ImageLimits(max_zip_files=3))

    def test_dropped_entries_do_not_count_towards_the_file_cap(self):
        png = make_image("PNG")
        data = make_zip([(f"__MACOSX/._{i}.png", b"x") for i in range(5)] + [("a.png", png)])
        assert len(read_zip(data, ImageLimits(max_zip_files=1)).images) == 1

    def test_archive_over_the_request_cap_is_413(self):
        data = make_zip([("a.png", make_image("PNG"))])
        with pytest.raises(ImageTooLarge):
            read_zip(data, ImageLimits(max_request_bytes=len(data) - 1))

    @pytest.mark.parametrize("data", [b"", b"definitely not a zip", b"PK\x03\x04" + bytes(40)])
    def test_not_a_zip_is_422(self, data):
        with pytest.raises(CorruptImage, match="not a readable zip") as caught:
            read_zip(data)
        assert caught.value.status == 422

    def test_truncated_zip_is_422(self):
        data = make_zip([("a.png", make_image("PNG", (64, 64), noisy=True))])
        with pytest.raises(CorruptImage):
            read_zip(data[: len(data) // 2])

    def test_encrypted_entry_is_skipped_with_a_reason(self):
        data = patch_zip_headers(make_zip([("secret.png", make_image("PNG"))]), flags=0x1)
        assert "encrypted" in reasons(read_zip(data))["secret.png"]


class TestSafeName:
    @pytest.mark.parametrize(
        ("raw", "safe"),
        [
            ("../../etc/x.png", "etc/x.png"),
            ("/etc/passwd", "etc/passwd"),
            ("C:\\Users\\me\\cat.jpg", "C_/Users/me/cat.jpg"),
            ("a/b/../", "a/b"),
            ("..", "unnamed"),
            ("", "unnamed"),
            ("bad\x00na\nme.png", "badname.png"),
        ],
    )
    def test_keeps_a_clean_relative_path(self, raw, safe):
        assert safe_name(raw) == safe
