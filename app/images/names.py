"""Image names: the relative path an image was uploaded with, cleaned once and made unique.

An image keeps the path it came with (``train/cat.jpg`` from a zip, a multipart file name, the
last part of a URL's path); ``clean_name`` only removes what cannot be a file name anywhere and
``BatchNames`` makes the names of one batch unique, once, at upload. Every export and the JSON
results use that stored name as it is, so labels never detach from their images.

The rule, applied in upload order:

1. ``clean_name``: ``\\`` separates folders like ``/``; empty, ``.`` and ``..`` parts go (nothing
   leaves the dataset's root); the text is NFC-normalised; control and other unprintable
   characters go; the characters Windows forbids in a file name (``< > : " | ? *``) become
   ``_``; each part loses its trailing dots and spaces and leading spaces; a Windows device name
   (``CON``, ``nul.txt``, ``COM1``) gets a ``_`` prefix; each part is at most 150 UTF-8 bytes
   (the extension kept) and the whole at most 255 characters (leading folders dropped first).
   Spaces, ``+``, ``#``, ``%`` and any script's letters stay.
2. ``with_extension``: a name whose extension is not an image one (``.jpg``, ``.jpeg``,
   ``.png``, ``.webp``, any case) gets its type's (``photo`` → ``photo.png``), so tools that
   find images by extension find it.
3. ``BatchNames.allocate``: names are unique by *stem* (the path without its extension),
   ignoring case, so ``labels/<stem>.txt`` files never collide and an archive unpacked on a
   case-insensitive file system loses nothing: ``val/cat.jpg`` then ``val/Cat.PNG`` gives
   ``val/cat.jpg`` and ``val/Cat_2.PNG``; ``train/cat.jpg`` is a different stem and stays.

    >>> names = BatchNames()
    >>> [names.allocate(n) for n in ["train/cat.jpg", "val/cat.jpg", "val/Cat.PNG", "val/cat.jpg"]]
    ['train/cat.jpg', 'val/cat.jpg', 'val/Cat_2.PNG', 'val/cat_3.jpg']
    >>> clean_name("../a\\\\b/dog+cat 06.jpg")
    'a/b/dog+cat 06.jpg'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_NAME_CHARS",
    "BatchNames",
    "clean_name",
    "name_stem",
    "with_extension",
]

MAX_NAME_CHARS = 255
"""The ``tasks.image_name`` column's width."""

IMAGE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
"""The extension given to a name that has no image extension, by media type."""

_KNOWN_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
_FORBIDDEN = re.compile(r'[<>:"|?*]')
_MAX_PART_BYTES = 150
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


def clean_name(raw: str) -> str:
    """The relative path ``raw`` cleaned by rule 1 (module docstring); ``""`` if nothing is left."""
    text = unicodedata.normalize("NFC", raw).replace("\\", "/")
    parts = [_clean_part(part) for part in text.split("/")]
    parts = [part for part in parts if part]
    while parts and len("/".join(parts)) > MAX_NAME_CHARS:
        if len(parts) == 1:
            parts = [_truncate(parts[0], MAX_NAME_CHARS)]
        else:
            parts = parts[1:]
    return "/".join(parts)


def _clean_part(part: str) -> str:
    part = "".join(ch for ch in part if ch.isprintable())
    part = _FORBIDDEN.sub("_", part).lstrip(" ").rstrip(" .")
    if part in ("", ".", ".."):
        return ""
    if part.split(".")[0].rstrip(" ").upper() in _RESERVED:
        part = "_" + part
    return _truncate_bytes(part, _MAX_PART_BYTES)


def _truncate_bytes(part: str, limit: int) -> str:
    if len(part.encode("utf-8")) <= limit:
        return part
    stem, extension = _split_extension(part)
    room = limit - len(extension.encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore").rstrip(" .")
    return (stem or "image") + extension


def _truncate(part: str, limit: int) -> str:
    stem, extension = _split_extension(part)
    return stem[: limit - len(extension)] + extension


def _split_extension(name: str) -> tuple[str, str]:
    """``("train/cat", ".jpg")``; a name without a plain extension keeps it all as its stem."""
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem.strip(" .") or not re.fullmatch(r"[A-Za-z0-9]{1,10}", extension):
        return name, ""
    return (f"{folder}/{stem}" if folder else stem), "." + extension


def name_stem(name: str) -> str:
    """The name without its extension (``train/cat.jpg`` → ``train/cat``): label files' names."""
    return _split_extension(name)[0]


def with_extension(name: str, media_type: str) -> str:
    """``name`` with its type's extension appended unless it already has an image extension."""
    if _split_extension(name)[1].lower() in _KNOWN_EXTENSIONS:
        return name
    extension = IMAGE_EXTENSIONS.get(media_type, "")
    if len(name) + len(extension) > MAX_NAME_CHARS:
        name = name[: MAX_NAME_CHARS - len(extension)]
    return name + extension


class BatchNames:
    """Makes the names of one batch unique by stem, ignoring case (rule 3, module docstring).

    The first ``cat.jpg`` stays ``cat.jpg``; later ones become ``cat_2.jpg``, ``cat_3.jpg``
    (whatever their extension), skipping any suffix already taken. ``taken`` seeds it with the
    names a batch already has. Memory: one short string per image.
    """

    def __init__(self, taken: tuple[str, ...] | list[str] = ()) -> None:
        self._used: set[str] = {name_stem(name).casefold() for name in taken}
        self._next: dict[str, int] = {}

    def allocate(self, name: str, *, extension_pending: bool = False) -> str:
        """A name for an image uploaded as ``name`` (already cleaned) that no earlier call gave.

        ``extension_pending``: the image's type is not known yet (a URL not downloaded) and
        ``with_extension`` will be applied later; unless ``name`` already has an image
        extension, all of it is the stem, which that later extension does not change.
        """
        stem, extension = _split_extension(name)
        if extension_pending and extension.lower() not in _KNOWN_EXTENSIONS:
            stem, extension = name, ""
        key = stem.casefold()
        candidate = stem
        while candidate.casefold() in self._used:
            number = self._next.get(key, 2)
            self._next[key] = number + 1
            suffix = f"_{number}"
            candidate = stem[: MAX_NAME_CHARS - len(extension) - len(suffix)] + suffix
        self._used.add(candidate.casefold())
        return candidate + extension
