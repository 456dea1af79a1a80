"""The one naming rule: relative paths kept, cleaned, made unique per batch by stem."""

from __future__ import annotations

import pytest

from app.images.names import MAX_NAME_CHARS, BatchNames, clean_name, name_stem, with_extension


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("train/cat.jpg", "train/cat.jpg"),
        ("dog+cat_06.jpg", "dog+cat_06.jpg"),
        ("my photos/summer 2024/IMG 1.jpg", "my photos/summer 2024/IMG 1.jpg"),
        ("chat été/猫.png", "chat été/猫.png"),
        ("cafe\u0301.png", "caf\u00e9.png"),  # NFC
        ("../../etc/x.png", "etc/x.png"),
        ("/abs/path.png", "abs/path.png"),
        ("C:\\Users\\me\\cat.jpg", "C_/Users/me/cat.jpg"),
        ("a/./b//c.png", "a/b/c.png"),
        ("bad\x00na\nme.png", "badname.png"),
        ('what?<is>"this"|*.png', "what__is__this___.png"),
        ("folder. /trailing. ", "folder/trailing"),
        ("CON.png", "_CON.png"),
        ("nul", "_nul"),
        ("..", ""),
        ("", ""),
    ],
)
def test_clean_name(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean
    assert clean_name(clean) == clean  # cleaning is idempotent


def test_long_names_fit_the_column_and_keep_their_extension() -> None:
    long_part = "é" * 200 + ".jpeg"
    cleaned = clean_name(long_part)
    assert cleaned.endswith(".jpeg")
    assert len(cleaned.encode()) <= 150
    deep = "/".join(["folder" * 10] * 10) + "/x.png"
    cleaned = clean_name(deep)
    assert len(cleaned) <= MAX_NAME_CHARS
    assert cleaned.endswith("/x.png")
    assert clean_name(cleaned) == cleaned


@pytest.mark.parametrize(
    ("name", "media_type", "result"),
    [
        ("photo", "image/png", "photo.png"),
        ("photo.JPG", "image/png", "photo.JPG"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("scan.v2", "image/webp", "scan.v2.webp"),
        ("anim.gif", "image/png", "anim.gif.png"),
    ],
)
def test_with_extension(name: str, media_type: str, result: str) -> None:
    assert with_extension(name, media_type) == result


def test_names_are_unique_by_stem_ignoring_case() -> None:
    names = BatchNames()
    given = ["train/cat.jpg", "val/cat.jpg", "val/Cat.PNG", "val/cat.jpg", "val/cat_2.jpg"]
    assert [names.allocate(n) for n in given] == [
        "train/cat.jpg",
        "val/cat.jpg",
        "val/Cat_2.PNG",
        "val/cat_3.jpg",
        "val/cat_2_2.jpg",
    ]
    stems = [name_stem(n).casefold() for n in names._used]
    assert len(stems) == len(set(stems))


def test_a_url_name_reserves_its_whole_stem() -> None:
    names = BatchNames()
    assert names.allocate("scan.v2", extension_pending=True) == "scan.v2"
    assert names.allocate("scan.v2.png") == "scan.v2_2.png"
    assert names.allocate("a.png", extension_pending=True) == "a.png"
    assert names.allocate("a.jpg") == "a_2.jpg"


def test_seeded_names_are_taken() -> None:
    names = BatchNames(taken=["x.png"])
    assert names.allocate("X.jpg") == "X_2.jpg"
