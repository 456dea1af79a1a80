"""Labels that come with an upload: which of its files are labels, which folders go from the
images' names, and the pre-annotations (or gold answers) the files give (``app.imports``)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.annotations import AnnotationSpec
from app.batches.intake import Upload
from app.imports import is_mask_file, read_labels
from app.imports.folders import class_of_folders
from app.models import Project

if TYPE_CHECKING:
    from app.batches.service import CheckedImage

DATASET_IMAGE_FOLDERS = ("images/default/", "images/", "JPEGImages/")
"""The image folder of a dataset (Datumaro, COCO/YOLO, VOC): dropped from the names when every
image of an upload that carries labels is inside one, so that an export uploaded again keeps
the names it had (``train/cat.jpg``, not ``images/train/cat.jpg``)."""


def without_dataset_folder(images: list[CheckedImage]) -> list[CheckedImage]:
    for folder in DATASET_IMAGE_FOLDERS:
        if images and all(item.name.startswith(folder) for item in images):
            return [replace(item, name=item.name[len(folder) :]) for item in images]
    return images


def masks_as_labels(project: Project, upload: Upload) -> None:
    """A segmentation project's upload that holds masks (``masks/``, ``SegmentationClass/``)
    beside other images: the masks are labels, not tasks."""
    if project.annotation.get("type") != "segmentation":
        return
    masks = [(name, data) for name, data in upload.images if is_mask_file(name)]
    if masks and len(masks) < len(upload.images):
        upload.images = [(n, d) for n, d in upload.images if not is_mask_file(n)]
        upload.labels.extend(masks)


def class_folders(
    project: Project, images: list[CheckedImage], upload: Upload
) -> tuple[list[CheckedImage], list[str | None], dict[str, Any] | None]:
    """Class folders (``app.imports.folders``): the images without their ``<split>/<class>/``
    folders, the label of each (in order), and the report entry; or the images as they are."""
    asked = upload.labels_format == "folders"
    if upload.labels and not asked:
        return images, [], None
    spec = AnnotationSpec.model_validate(project.annotation)
    found = class_of_folders(spec, [item.name for item in images], asked=asked)
    if found is None:
        return images, [], None
    renamed, entry = found
    named = [
        replace(item, name=renamed[item.name][0]) if item.name in renamed else item
        for item in images
    ]
    labels = [renamed[item.name][1] if item.name in renamed else None for item in images]
    return named, labels, entry


def imported_labels(
    project: Project,
    images: list[CheckedImage],
    aliases: dict[str, str],
    files: list[tuple[str, bytes]],
    labels_format: str | None,
    url_names: set[str] | None = None,
    *,
    gold: bool = False,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Pre-annotations from the label files of an upload (``app.imports``), each validated
    like any answer; the per-file report says what did not match and why. Images still to
    be downloaded (``url_names``) are read at the size the files state. ``gold``: every image
    a file labels, with no object too ("nothing here" is a known answer)."""
    spec = AnnotationSpec.model_validate(project.annotation)
    sizes: dict[str, tuple[int, int] | None] = dict.fromkeys(url_names or ())
    sizes.update({item.name: (item.info.width, item.info.height) for item in images})
    imported = read_labels(spec, files, sizes, aliases, format=labels_format)
    return (imported.labelled if gold else imported.answers), imported.report
