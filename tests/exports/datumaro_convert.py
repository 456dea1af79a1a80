"""Run by Datumaro's own venv (``.venv-datumaro``): ``datumaro_convert.py SRC IN_FORMAT OUT
OUT_FORMAT`` imports a dataset and writes it with Datumaro's own writer, images included, so
that tests/app/test_label_imports_tools.py imports files a real tool wrote. Not a test module."""

from __future__ import annotations

import sys
import warnings

from datumaro.components.dataset import Dataset


def main() -> None:
    warnings.simplefilter("ignore")
    source, in_format, out, out_format = sys.argv[1:5]
    Dataset.import_from(source, in_format).export(out, out_format, save_media=True)


if __name__ == "__main__":
    main()
