"""Mutation test of the checker over the gold set.

Change one number at a time — every numeric field of every gold form, several
deltas — and count how often the checker raises a new error finding, with the
arithmetic alone and with grounding in the form's printed text.

    python eval/mutation.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.check import check_form  # noqa: E402
from extractor.check.grounding import numeric_fields  # noqa: E402
from extractor.models import set_path  # noqa: E402
from extractor.settings import CheckSettings  # noqa: E402

CENT = Decimal("0.01")
DELTAS = (Decimal("0.01"), Decimal("-0.01"), Decimal("1"), Decimal("-1"), Decimal("10"))


def field_kind(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def errors(findings) -> set[tuple[str, str | None]]:
    return {(f.code, f.field) for f in findings if f.severity == "error"}


def run(gold_dir: Path = ROOT / "eval" / "gold" / "text") -> dict:
    from pydantic import TypeAdapter

    from extractor.models import Form

    adapter = TypeAdapter(Form)
    settings = CheckSettings()
    stats: dict[str, dict] = defaultdict(lambda: {"mutations": 0, "caught_arithmetic": 0, "caught_with_grounding": 0, "missed_deltas": []})
    for path in sorted(gold_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        text = (ROOT / doc["document"]).read_text(encoding="utf-8")
        for raw in doc["forms"]:
            form = adapter.validate_python(raw)
            for fpath, value in list(numeric_fields(form)):  # as printed: the seeds print two decimals (90.00), JSON kept 90.0
                if value.as_tuple().exponent >= -2:
                    set_path(form, fpath, value.quantize(CENT))
            base_a = errors(check_form(form, settings))
            base_g = errors(check_form(form, settings, page_text=text))
            for fpath, value in list(numeric_fields(form)):
                for delta in DELTAS:
                    new = value + delta
                    if new < 0:
                        continue
                    mutated = form.model_copy(deep=True)
                    set_path(mutated, fpath, new)
                    s = stats[field_kind(fpath)]
                    s["mutations"] += 1
                    caught = bool(errors(check_form(mutated, settings)) - base_a)
                    s["caught_arithmetic"] += caught
                    if not caught and str(delta) not in s["missed_deltas"]:
                        s["missed_deltas"].append(str(delta))
                    s["caught_with_grounding"] += bool(errors(check_form(mutated, settings, page_text=text)) - base_g)
    return dict(stats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    stats = run()
    print(f"{'field':40} {'mutations':>9} {'arithmetic':>11} {'+grounding':>11}")
    for kind, s in sorted(stats.items()):
        n = s["mutations"]
        print(f"{kind:40} {n:9d} {s['caught_arithmetic'] / n:11.1%} {s['caught_with_grounding'] / n:11.1%}")
    if args.json:
        args.json.write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
