"""Files the package ships beside its code: the prompts and the evaluation set
(gold records and the fixtures they score).

In a checkout or an editable install they are the repository's own folders
(`prompts/`, `eval/gold/`, `fixtures/`); a wheel carries copies of them inside
the package (`extractor/_data/`, laid out like the repository: setup.py copies
them at build time), so an installed tool needs no checkout.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

# What a wheel carries, as paths from the repository's root (setup.py reads this).
SHIPPED = ("prompts", "eval/gold", "fixtures/text", "fixtures/pdf", "fixtures/scanned", "fixtures/office", "fixtures/web",
           "fixtures/provinces")
SHIPPED_SUFFIXES = (".md", ".json", ".txt", ".pdf", ".jpg", ".png", ".tiff", ".xlsx", ".docx", ".html")


@cache
def data_root() -> Path:
    """The folder the shipped paths are relative to."""
    packaged = Path(str(files("extractor"))) / "_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1]


def prompts_dir() -> Path:
    return data_root() / "prompts"
