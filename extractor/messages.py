"""The language of the command line's messages: English or Chinese.

`--lang zh|en` (or EXTRACTOR_LANG) chooses; by default the locale does (LC_ALL,
LC_MESSAGES, LANG starting `zh`: Chinese). Files the tool writes (errors.json,
summary.json, the tables) keep English messages, whatever the language shown, so
that scripts reading them do not depend on who ran the batch.
"""

from __future__ import annotations

import os

LANGS = ("en", "zh")
_chosen: list[str] = []  # set by the command line for the command it runs


def default_lang() -> str:
    """EXTRACTOR_LANG, else the locale's language (the first of LC_ALL, LC_MESSAGES, LANG set)."""
    chosen = os.environ.get("EXTRACTOR_LANG", "").strip().lower()
    if chosen in LANGS:
        return chosen
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_lang(lang: str | None) -> None:
    _chosen[:] = [lang if lang in LANGS else default_lang()]


def lang() -> str:
    return _chosen[0] if _chosen else default_lang()


def pick(en: str, zh: str, language: str | None = None) -> str:
    """The message in the language shown (or in `language`)."""
    return zh if (language or lang()) == "zh" else en


# Chinese counts take a measure word, English ones a plural.
_MEASURE = {"document": "份文件", "page": "页", "form": "张表", "file": "个文件", "request": "次请求", "table": "张表格"}


def counted(n: int, word: str, language: str | None = None) -> str:
    """`1 form`, `2 forms`; `2 张表`."""
    if (language or lang()) == "zh" and word in _MEASURE:
        return f"{n} {_MEASURE[word]}"
    return f"{n} {word}{'' if n == 1 else 's'}"
