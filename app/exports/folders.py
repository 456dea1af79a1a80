"""Classification as class folders (Ultralytics classify, torchvision ``ImageFolder``, ImageNet).

``train/<label>/<name>``: each image with a consensus, under its name, in its label's folder,
and nothing else: Datumaro's ImageNet reader refuses any other file in the tree, so there is
no manifest (the JSON results map names to tasks) and an image without a consensus yet is left
out (a class folder cannot hold it). The images are the data, so this format always has them.

A label becomes a folder name by ``app.images.names.clean_name`` with ``/`` as ``_`` (``cat/dog``
→ ``cat_dog``); labels that would share a folder (ignoring case) get ``_2``, ``_3``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from app.exports.archive import ZipStream
from app.exports.base import ExportFormat, ExportItem, ImageReader, class_of, label_index
from app.exports.naming import UniqueStems
from app.images.names import clean_name

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["FOLDERS", "class_folders", "folder_chunks"]


def class_folders(spec: AnnotationSpec) -> list[str]:
    """The folder of each label, in label order (see the module docstring)."""
    taken: set[str] = set()
    folders = []
    for index, label in enumerate(spec.labels):
        base = clean_name(label.replace("/", "_").replace("\\", "_")) or f"class_{index}"
        folder, number = base, 2
        while folder.casefold() in taken:
            folder, number = f"{base}_{number}", number + 1
        taken.add(folder.casefold())
        folders.append(folder)
    return folders


def folder_chunks(
    spec: AnnotationSpec, items: Iterable[ExportItem], images: ImageReader | None = None
) -> Iterator[bytes]:
    """Yield the class-folder zip for ``items`` entry by entry."""
    if images is None:
        raise ValueError("the class-folder export is made of the images: give an image reader")
    archive = ZipStream()
    folders = class_folders(spec)
    labels = label_index(spec)
    stems = UniqueStems()
    for item in items:
        stems.stem(item.task_id, item.image_name)
        if item.answer is None:
            continue
        folder = folders[class_of(labels, item.answer["label"], item.task_id)]
        yield archive.add(f"train/{folder}/{item.image_name}", images(item), compress=False)
    yield archive.close()


FOLDERS = ExportFormat("application/zip", "_folders.zip", folder_chunks, images_required=True)
"""The ``folders`` format (classification)."""
