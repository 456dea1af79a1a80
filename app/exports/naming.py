"""Safe, unique file names inside export archives.

Image names come from requesters (upload names, URLs, zip members): they may hold directories,
``..``, control characters, reserved device names, or repeat (two ``cat.jpg`` in different
folders). Every archive entry name is built from a stem made here, so nothing can point outside
the archive and no two images share a file.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["StemAllocator", "image_basename", "image_extension", "image_stem"]

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
_UNSAFE = re.compile(r"[^\w\-. ]+")  # \w is Unicode-aware: letters and digits of any script
_MAX_STEM_BYTES = 150  # well under the 255-byte file-name limit, with room for "_<n>.xml"
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


def image_basename(image_name: str) -> str:
    """The last path component of an image name (``/`` and ``\\`` both separate)."""
    return re.split(r"[\\/]", image_name)[-1]


def image_extension(image_name: str) -> str:
    """The image's extension with its dot (``".jpg"``), or ``""`` when it has no plain one."""
    stem, dot, extension = image_basename(image_name).rpartition(".")
    candidate = dot + extension
    return candidate if stem.strip(" .") and _EXTENSION.fullmatch(candidate) else ""


def image_stem(image_name: str) -> str:
    """A safe file stem for an image: its base name without extension, sanitised.

    Characters other than letters, digits, ``-``, ``_``, ``.`` and space become ``_``; leading
    and trailing dots and spaces go (no hidden files, no ``..``); Windows device names get a
    ``_`` prefix; the result is NFC-normalised, at most 150 UTF-8 bytes and never empty.
    """
    base = unicodedata.normalize("NFC", image_basename(image_name))
    stem, dot, _ = base.rpartition(".")
    if not dot or not stem.strip(" ."):
        stem = base
    stem = _UNSAFE.sub("_", stem).strip(" .")
    encoded = stem.encode("utf-8")
    if len(encoded) > _MAX_STEM_BYTES:
        stem = encoded[:_MAX_STEM_BYTES].decode("utf-8", errors="ignore").rstrip(" .")
    if not stem:
        return "image"
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    return stem


class StemAllocator:
    """Hands out unique stems: the first ``cat.jpg`` is ``cat``, the next ``cat_2``, ``cat_3``.

    Uniqueness ignores case, so an archive unpacked on a case-insensitive file system (macOS,
    Windows) loses nothing. Memory grows with the number of images (one short string each).
    """

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def allocate(self, image_name: str) -> str:
        """Return a stem for ``image_name`` that no earlier call has returned."""
        stem = image_stem(image_name)
        candidate = stem
        key = stem.casefold()
        while candidate.casefold() in self._used:
            number = self._next.get(key, 2)
            self._next[key] = number + 1
            candidate = f"{stem}_{number}"
        self._used.add(candidate.casefold())
        return candidate
