"""Semantic masks as PNG files: ``masks/<stem>.png`` (Datumaro's common semantic segmentation,
with ``dataset_meta.json``), and the mask reading VOC's ``SegmentationClass`` shares.

A mask belongs to the image of the same stem. Its pixels are label values: a gray level or
palette index ``k`` is ``label_map["k"]`` of ``dataset_meta.json`` (``app.exports.masks
.dataset_meta``), else line ``k`` of ``classes.txt``, else project label ``k-1``; an RGB mask is
read through ``segmentation_colors``. ``background`` (and VOC's 255, the void border) is no
label. A value whose name is not a project label is reported and left unlabelled.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from app.exports.shapes import Shape
from app.images.names import name_stem
from app.imports.base import Importer, LabelFile, Reading, problem

__all__ = ["MASKS", "ValueNames", "read_masks"]

ValueNames = dict[int, str]
"""A mask's pixel value → label name (0 is always the background)."""

Colours = dict[tuple[int, int, int], int]
"""An RGB mask's colour → pixel value."""

BACKGROUND = ("background", "_background_")
VOID = 255


def mask_values(file: LabelFile, colours: Colours | None) -> np.ndarray:
    """The pixel values of a mask PNG (palette indices, gray levels, or colours mapped)."""
    try:
        with Image.open(io.BytesIO(file.data)) as image:
            image.load()
            mode = image.mode
            if mode in ("P", "L", "I", "I;16", "1"):
                return np.asarray(image).astype(np.int64)
            rgb = np.asarray(image.convert("RGB")).astype(np.int64)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise file.invalid(f"not a readable PNG mask: {exc}") from None
    if colours is None:
        if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
            return rgb[..., 0]
        raise file.invalid("an RGB mask, and no colour map (labelmap.txt, dataset_meta.json)")
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    values = np.full(packed.shape, -1, dtype=np.int64)
    for (r, g, b), value in colours.items():
        values[packed == ((r << 16) | (g << 8) | b)] = value
    return values


def read_masks(
    reading: Reading,
    files: list[LabelFile],
    format: str,
    names: ValueNames,
    colours: Colours | None,
) -> None:
    """Each mask file as one mask shape per project label present in it."""
    for file in files:
        entry = reading.entry(file, format)
        image = reading.images.by_stem(_stem(file.name))
        if image is None:
            problem(entry, "no image of the upload has this mask's name")
            continue
        entry["image"] = image
        values = mask_values(file, colours)
        size = reading.size(entry, image, values.shape[::-1])
        if size is None:
            continue
        width, height = size
        if values.shape != (height, width):
            problem(
                entry,
                f"the mask is {values.shape[1]}x{values.shape[0]}, the image {width}x{height}",
            )
            continue
        shapes = []
        for value in np.unique(values).tolist():
            if value in (0, VOID):
                continue
            name = names.get(value)
            if value < 0:
                problem(entry, "pixels of a colour the colour map does not list")
                continue
            label = reading.label(entry, name if name is not None else value, f"value {value}")
            if label is not None:
                shapes.append(Shape("mask", label, mask=values == value))
        reading.add(entry, image, shapes)


def _stem(name: str) -> str:
    """``masks/train/cat.png`` → ``train/cat`` (the folder that holds the masks goes)."""
    _, _, rest = name.partition("/")
    return name_stem(rest or name)


def _is_meta(file: LabelFile) -> bool:
    return file.base == "dataset_meta.json"


def _claims(file: LabelFile) -> bool:
    return file.extension == ".png" and file.name.lower().startswith("masks/")


def _meta(reading: Reading, everything: list[LabelFile]) -> tuple[ValueNames, Colours | None]:
    for file in everything:
        if _is_meta(file):
            meta = file.json
            label_map = meta.get("label_map") if isinstance(meta, dict) else None
            if not isinstance(label_map, dict):
                raise file.invalid("dataset_meta.json has no label_map")
            try:
                names = {int(k): str(v) for k, v in label_map.items()}
            except ValueError:
                raise file.invalid("dataset_meta.json: label_map keys are not numbers") from None
            colours = meta.get("segmentation_colors")
            by_colour: Colours | None = None
            if isinstance(colours, list):
                by_colour = {}
                for index, colour in enumerate(colours):
                    if not (isinstance(colour, list) and len(colour) == 3):
                        raise file.invalid(f"segmentation_colors[{index}] is not [r, g, b]")
                    by_colour[(int(colour[0]), int(colour[1]), int(colour[2]))] = index
            return _without_background(names), by_colour
    for file in everything:
        if file.base == "classes.txt":
            lines = [line.strip() for line in file.text.splitlines() if line.strip()]
            return _without_background(dict(enumerate(lines, start=1))), None
    return dict(enumerate(reading.spec.labels, start=1)), None


def _without_background(names: ValueNames) -> ValueNames:
    return {k: v for k, v in names.items() if k != 0 and v.lower() not in BACKGROUND}


def _read(reading: Reading, mine: list[LabelFile], everything: list[LabelFile]) -> None:
    names, colours = _meta(reading, everything)
    read_masks(reading, mine, "masks", names, colours)


def _side(file: LabelFile) -> bool:
    return _is_meta(file) or file.base == "classes.txt"


MASKS = Importer(name="masks", claims=_claims, read=_read, kinds=("mask",), side_files=_side)
