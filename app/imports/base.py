"""What every importer shares: the label file, the images it may name, and the reading.

One rule matches a label file's image to an upload's image (``Images.find``): the name as the
label file writes it, cleaned as names are at upload (``app.images.names.clean_name``), without
a dataset's image folder (``images/``, ``images/default/``, ``JPEGImages/``) or a URL's scheme,
host and query; then the batch's name, or the name as uploaded (``val/Cat.PNG`` found as
``val/Cat_2.PNG``), or the same stem ignoring case (labels named after the stem: YOLO, VOC,
masks, Datumaro ids), or, last, the one image whose name ends with it (``cat.jpg`` for
``train/cat.jpg`` when no other image ends so).

An importer turns its files into shapes in pixels (``app.exports.shapes.Shape``) per image; the
project's type makes an answer of them (``ShapeCodec.answer``), validated like any answer
(``app.imports.read``). A file that cannot be read at all raises ``LabelFileInvalid`` (the
upload is refused); what does not match is written in the file's report entry.
"""

from __future__ import annotations

import json
import posixpath
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeTree

from app.exports.shapes import Shape, ShapeKind
from app.images.names import clean_name, name_stem
from app.imports.errors import LabelFileInvalid

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["Images", "Importer", "LabelFile", "Reading"]

IMAGE_FOLDERS = ("images/default/", "images/", "JPEGImages/")
"""A dataset's image folder, dropped from a name a label file gives (as the upload drops it
from the images' names)."""

MAX_PROBLEMS = 50
"""Problems listed per file (the count is always given)."""


@dataclass
class LabelFile:
    """One file of the upload that may hold labels."""

    name: str
    data: bytes

    @property
    def base(self) -> str:
        return self.name.rsplit("/", 1)[-1].lower()

    @property
    def extension(self) -> str:
        return posixpath.splitext(self.base)[1]

    @cached_property
    def text(self) -> str:
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LabelFileInvalid(self.name, f"not UTF-8 text (byte {exc.start})") from None

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise LabelFileInvalid(
                self.name, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None

    @cached_property
    def xml(self) -> Element:
        try:
            root: Element = SafeTree.fromstring(self.data, forbid_dtd=True)
        except SafeTree.ParseError as exc:
            raise LabelFileInvalid(self.name, f"not well-formed XML: {exc}") from None
        except ValueError as exc:  # defusedxml's refusals (DTD, entities)
            raise LabelFileInvalid(self.name, f"refused XML: {exc}") from None
        return root

    def invalid(self, reason: str) -> LabelFileInvalid:
        return LabelFileInvalid(self.name, reason)


class Images:
    """The upload's images as label files may name them (see the module docstring)."""

    def __init__(self, sizes: dict[str, tuple[int, int] | None], aliases: dict[str, str]) -> None:
        self.sizes = sizes
        self._aliases = {k: v for k, v in aliases.items() if v in sizes}
        self._stems: dict[str, str] = {}
        for name in sizes:
            self._stems.setdefault(name_stem(name).casefold(), name)
        for uploaded, final in self._aliases.items():
            self._stems.setdefault(name_stem(uploaded).casefold(), final)
        self._bases: dict[str, list[str]] = defaultdict(list)
        for name in sizes:
            self._bases[name.rsplit("/", 1)[-1].casefold()].append(name)

    def find(self, written: str) -> str | None:
        """The image a label file names ``written`` (a path or URL), or None."""
        name = _plain(written)
        if not name:
            return None
        if name in self.sizes:
            return name
        if name in self._aliases:
            return self._aliases[name]
        by_stem = self.by_stem(name_stem(name))
        if by_stem is not None:
            return by_stem
        ends = [
            n
            for n in self._bases.get(name.rsplit("/", 1)[-1].casefold(), [])
            if n.casefold().endswith("/" + name.casefold())
            or name.casefold().endswith("/" + n.casefold())
        ]
        return ends[0] if len(ends) == 1 else None

    def by_stem(self, stem: str) -> str | None:
        """The image whose name without extension is ``stem`` (ignoring case), or None."""
        stem = clean_name(stem)
        for folder in ("", *IMAGE_FOLDERS):
            if not folder or stem.startswith(folder):
                found = self._stems.get(stem[len(folder) :].casefold())
                if found is not None:
                    return found
        return None


def _plain(written: str) -> str:
    """A label file's image reference as an upload name: URL parts and image folders gone."""
    text = written.strip()
    if "://" in text or text.startswith("/data/"):
        parts = urlsplit(text)
        query = parse_qs(parts.query).get("d")  # Label Studio local files: ?d=<path>
        text = unquote(query[0] if query else parts.path)
    name = clean_name(text)
    for folder in IMAGE_FOLDERS:
        if name.startswith(folder):
            return name[len(folder) :]
    return name


@dataclass
class Reading:
    """One import under way: what the importers find, per image, and report, per file."""

    spec: AnnotationSpec
    kind: ShapeKind
    images: Images
    shapes: dict[str, list[Shape]] = field(default_factory=lambda: defaultdict(list))
    source: dict[str, str] = field(default_factory=dict)
    """The file each image's labels came from (where its validation problems are reported)."""
    report: list[dict[str, Any]] = field(default_factory=list)
    declared: dict[str, tuple[int, int]] = field(default_factory=dict)
    """The sizes label files state for images not downloaded yet (URLs)."""
    explicit: set[str] = field(default_factory=set)
    """Images whose file gives an answer even without shapes (a multilabel row of zeros)."""

    def entry(self, file: LabelFile, format: str) -> dict[str, Any]:
        """A new report entry for ``file`` (``problems`` added by ``problem``)."""
        entry: dict[str, Any] = {"file": file.name, "format": format}
        self.report.append(entry)
        return entry

    def add(
        self, entry: dict[str, Any], image: str, shapes: list[Shape], *, explicit: bool = False
    ) -> None:
        """``shapes`` found for ``image`` (none: the file says the image has no labels; with
        ``explicit`` that is an answer of its own, as a multilabel row of zeros)."""
        self.shapes[image].extend(shapes)
        if explicit:
            self.explicit.add(image)
        self.source.setdefault(image, entry["file"])
        entry["objects"] = entry.get("objects", 0) + len(shapes)

    def size(
        self, entry: dict[str, Any], image: str, declared: Any = None
    ) -> tuple[int, int] | None:
        """``image``'s ``(width, height)``: its own, or for an image not downloaded yet (a URL)
        the size the file states (``declared``), else None and a problem."""
        known = self.images.sizes.get(image)
        if known is not None:
            return known
        try:
            width, height = (int(v) for v in declared)
        except (TypeError, ValueError):
            problem(
                entry,
                f"{image}: its size is unknown until it is downloaded, and the file "
                "does not state it (upload the image itself, or use a format that does)",
            )
            return None
        if width <= 0 or height <= 0:
            problem(entry, f"{image}: the file states a size of {width}x{height}")
            return None
        self.declared.setdefault(image, (width, height))
        return width, height

    def label(self, entry: dict[str, Any], name: object, where: str) -> str | None:
        """``name`` if it is a project label, else None and a problem."""
        if isinstance(name, str) and name in self.spec.labels:
            return name
        problem(entry, f"{where}: {name!r} is not a project label")
        return None


def problem(entry: dict[str, Any], text: str) -> None:
    """Add a problem to a report entry (the first ``MAX_PROBLEMS`` are listed, all counted)."""
    problems = entry.setdefault("problems", [])
    entry["problem_count"] = entry.get("problem_count", 0) + 1
    if len(problems) < MAX_PROBLEMS:
        problems.append(text)


def number(file: LabelFile, value: object, where: str) -> float:
    """A number a label file must hold at ``where``; anything else makes the file invalid."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise file.invalid(f"{where}: expected a number, got {value!r}")
    try:
        result = float(value)
    except ValueError:
        raise file.invalid(f"{where}: expected a number, got {value!r}") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise file.invalid(f"{where}: expected a finite number, got {value!r}")
    return result


@dataclass(frozen=True)
class Importer:
    """One label format: which files are its own, and how they are read."""

    name: str
    claims: Callable[[LabelFile], bool]
    """Whether a file holds this format's labels (by name and, for JSON/XML, content)."""
    read: Callable[[Reading, list[LabelFile], list[LabelFile]], None]
    """Read the files the format claimed; the second list is every label file of the upload
    (where it finds its side files: ``data.yaml``, ``labelmap.txt``, ``dataset_meta.json``)."""
    kinds: tuple[ShapeKind, ...]
    """The kinds it carries (another project type's files are reported, not read)."""
    side_files: Callable[[LabelFile], bool] = lambda _file: False
    """Files it reads beside its own (not reported as unknown when the format is present)."""
