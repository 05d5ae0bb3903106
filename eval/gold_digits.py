"""Write the gold records' numbers with the digits their documents print.

Gold numbers were stored as plain JSON numbers, which drop trailing zeros (`116.40`
became `116.4`); the checker holds a figure to the precision it is printed with, so a
gold record needs its digits back. This changes no value: a number takes the printed
text of the same field in its document (where the rules engine read it,
`provenance.raw`) only where that text reads as the same value, and the script stops
if any value would change. Fields the engine did not locate keep their digits.

    python eval/gold_digits.py          # rewrite eval/gold/ in place
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.eval_sets import EvalDocument, _GoldFiles, load_manifest  # noqa: E402
from extractor.forms.numbers import parse_number  # noqa: E402
from extractor.models import get_path, path_parts  # noqa: E402
from extractor.pipeline import ExtractOptions, extract_document  # noqa: E402


def printed_digits(raw: str | None, value: Decimal) -> Decimal | None:
    text = re.sub(r"[%(（].*$", "", raw or "").strip()
    try:
        printed = parse_number(text) if text else None
    except ValueError:
        return None
    return printed if printed is not None and printed == value else None


def documents(gold: _GoldFiles) -> list[EvalDocument]:
    docs = []
    for g in sorted((ROOT / "eval" / "gold" / "text").glob("*.json")):
        raw = json.loads(g.read_text(encoding="utf-8"))
        docs.append(EvalDocument(ROOT / raw["document"], raw["doc_type"], gold(str(g.relative_to(ROOT)))))
    docs += load_manifest(ROOT / "fixtures" / "office" / "manifest.json", gold)
    return [d for d in docs if d.path.suffix in (".txt", ".xlsx")]  # the printed cells themselves


def _set(raw: dict, path: str, value: Decimal) -> None:
    *parents, leaf = path_parts(path)
    obj = raw
    for part in parents:
        obj = obj[int(part)] if part.isdigit() else obj[part]
    assert Decimal(str(obj[leaf])) == value, (path, obj[leaf], value)
    obj[leaf] = value


def _dumps(obj) -> str:
    marked = json.dumps(obj, ensure_ascii=False, indent=1, default=lambda d: "\x00" + str(d))
    return re.sub(r'"\\u0000([-0-9.Ee+]+)"', r"\1", marked) + "\n"


def main() -> None:
    gold = _GoldFiles(ROOT)
    found_digits: dict[int, dict[str, Decimal]] = {}
    for doc in documents(gold):
        result = extract_document(doc.path, ExtractOptions(engine="rules"))
        for found, g in zip(result.forms, doc.gold):
            for path, src in found.provenance.items():
                try:
                    value = get_path(g, path)
                except (IndexError, AttributeError):
                    continue
                if isinstance(value, Decimal) and (d := printed_digits(src.raw, value)) is not None:
                    found_digits.setdefault(id(g), {}).setdefault(path, d)
    for rel, forms in gold._cache.items():
        raw = json.loads(rel.read_text(encoding="utf-8"), parse_float=Decimal)
        n = 0
        for i, form in enumerate(forms):
            for path, d in sorted(found_digits.get(id(form), {}).items()):
                _set(raw["forms"][i], path, d)
                n += 1
        rel.write_text(_dumps(raw), encoding="utf-8")
        print(f"{rel.relative_to(ROOT)}: {n} numbers with their printed digits")


if __name__ == "__main__":
    main()
