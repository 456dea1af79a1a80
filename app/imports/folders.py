"""Class folders (Ultralytics classify, ImageNet, torchvision ``ImageFolder``): an image at
``<split>/<class>/<name>`` of a classification project is ``<name>`` labelled with the class
whose folder that is (``app.exports.folders.class_folders``: the label, or its folder name).

Read when asked (``labels_format=folders``) or, in a classification upload without label files,
when every image is in such a folder: ``<split>`` one of ``train``, ``val``, ``valid``,
``test``, ``<class>`` a project label's folder (ignoring case).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.exports.folders import class_folders

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["class_of_folders"]

SPLITS = ("train", "val", "valid", "test")


def class_of_folders(
    spec: AnnotationSpec, names: list[str], *, asked: bool
) -> tuple[dict[str, tuple[str, str]], dict[str, Any]] | None:
    """``{uploaded name: (name without the two folders, label)}`` and the report entry, or
    ``None`` when the names are not class folders (and ``asked`` is false)."""
    if spec.type != "classification" or not names:
        return None
    labels: dict[str, str] = {}
    for folder, label in zip(class_folders(spec), spec.labels, strict=True):
        labels.setdefault(folder.casefold(), label)
        labels.setdefault(label.casefold(), label)
    found: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    for name in names:
        parts = name.split("/")
        if len(parts) >= 3 and (asked or parts[0].lower() in SPLITS):
            folder_label = labels.get(parts[1].casefold())
            if folder_label is not None:
                found[name] = ("/".join(parts[2:]), folder_label)
                continue
            problems.append(f"{name}: folder {parts[1]!r} is not a project label")
        else:
            problems.append(f"{name}: not in a <split>/<class>/ folder")
    if not asked and problems:
        return None
    entry: dict[str, Any] = {"file": "(class folders)", "format": "folders", "images": len(found)}
    if problems:
        entry["problems"] = problems[:50]
        entry["problem_count"] = len(problems)
    return found, entry
