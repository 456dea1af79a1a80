"""File names inside export archives: the image's own name, never another.

An image's name is made safe and unique within its batch once, at upload
(``app.images.names``); every format writes the image as ``<folder>/<name>`` and its labels as
``<folder>/<stem>.<ext>``, where the stem is the name without its extension. Nothing here
renames anything: a name that repeats a stem, or that could point outside the archive, is a
data error (``ValueError``) rather than a silently different file.
"""

from __future__ import annotations

from app.images.names import clean_name, name_stem

__all__ = ["UniqueStems", "name_stem"]


class UniqueStems:
    """Checks that no two items of an export share a stem (ignoring case), and that each
    name is already clean; returns the stem. Memory: one short string per image."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def stem(self, task_id: str, image_name: str) -> str:
        """The stem of ``image_name``; ``ValueError`` if it is not clean or repeats one."""
        if not image_name or clean_name(image_name) != image_name:
            raise ValueError(
                f"task {task_id}: image name {image_name!r} is not a clean relative path"
            )
        stem = name_stem(image_name)
        key = stem.casefold()
        earlier = self._seen.get(key)
        if earlier is not None:
            raise ValueError(
                f"task {task_id}: image name {image_name!r} has the same stem as {earlier!r}; "
                "names are made unique per batch at upload"
            )
        self._seen[key] = image_name
        return stem
