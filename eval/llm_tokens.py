"""LLM tokens per form, for the capacity plan: the real requests of `--engine llm`
on the born-digital fixtures (60 forms), counted by a real tokenizer.

The requests are made against the stand-in server (tests/llm_server.py, answering
each form with its gold record) and recorded whole (messages, schema, answer); the
tokens are counted with the interop model's vocabulary (gemma 3, through
llama-cpp-python in the interop venv, `.ci/interop-venv`): other models' tokenizers
give other counts (for Chinese, within ±30% among current ones). Page images
(--vision, the default) add the model's image tokens per page on top.

    python eval/llm_tokens.py [--venv PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "eval")]

from llm_standin import _keys, _standin, answer_of  # noqa: E402

from extractor.eval_sets import load_set  # noqa: E402
from extractor.forms.numbers import compact  # noqa: E402
from extractor.llm.config import LLMConfig  # noqa: E402
from extractor.pipeline import ExtractOptions, extract_document  # noqa: E402
from llm_server import FakeOpenAI  # noqa: E402

COUNT = """
import json, sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
n = lambda s: len(llm.tokenize(s.encode("utf-8"), add_bos=False))
for line in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(line)
    print(json.dumps({"in": sum(n(m if isinstance(m, str) else json.dumps(m, ensure_ascii=False)) for m in r["prompt"]),
                      "out": n(r["answer"]), "out_lean": n(r["lean"])}))
"""


def _asked(gold: list, body: dict):
    """The gold form a request is about: the one whose keys its text shows (the longest)."""
    text = compact(body["messages"][1]["content"])
    return max((g for g in gold if all(k in text for k in _keys(g))), key=lambda g: sum(map(len, _keys(g))), default=None)


def written_answer(gold: list, body: dict) -> tuple[str, str]:
    """The answer a model writes to the request: the gold record it asks about in the
    response schema's shape, its figures as the printed strings the schema asks for —
    with every key, and with the null ones left out (the schema lets a model omit them).
    (The stand-in answers with the whole contract record; a model writes the schema's
    keys only, so that is what is counted.)"""
    from extractor.llm.response import as_written, response_model_for

    form = _asked(gold, body)
    if form is None:
        return "", ""
    written = response_model_for(form.kind).model_validate(form.model_dump())
    return written.model_dump_json(), json.dumps(as_written(answer_of(form)), ensure_ascii=False, separators=(",", ":"))


def requests() -> list[dict]:
    """Every request of the LLM engine on the born-digital fixtures: what it sends
    (messages and the schema it asks for) and the answer it gets."""
    out = []
    for doc in load_set(str(ROOT / "fixtures" / "pdf" / "manifest.json")):
        with FakeOpenAI(respond=_standin([(_keys(g), answer_of(g)) for g in doc.gold])) as server:
            cfg = LLMConfig(base_url=server.url, api_key="sk-standin", model="stand-in", cache_dir=None, vision=False,
                            backoff_initial=0.01, backoff_max=0.02, timeout_s=10)
            extract_document(doc.path, ExtractOptions(engine="llm", llm=cfg))
        for req in server.requests:
            body = req["body"]
            prompt = [m["content"] for m in body["messages"]] + [body.get("tools") or body.get("response_format") or ""]
            written = written_answer(doc.gold, body)
            out.append({"prompt": prompt, "answer": written[0], "lean": written[1]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", type=Path, default=os.environ.get("EXTRACTOR_INTEROP_VENV"),
                    help="The interop venv (.ci/interop-venv prints it); default $EXTRACTOR_INTEROP_VENV.")
    args = ap.parse_args()
    if not args.venv:
        sys.exit("give --venv (bash .ci/interop-venv builds one and prints its path)")
    reqs = requests()
    model = next(Path(args.venv, "model").glob("*.gguf"))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as fh:
        for r in reqs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counted = subprocess.run([str(Path(args.venv, "bin", "python")), "-c", COUNT, str(model), fh.name],
                             capture_output=True, text=True, check=True)
    os.unlink(fh.name)
    counts = [json.loads(line) for line in counted.stdout.splitlines()]
    ins, outs, lean = [c["in"] for c in counts], [c["out"] for c in counts], [c["out_lean"] for c in counts]
    report = {"requests": len(counts), "tokenizer": model.name, "input_mean": statistics.mean(ins), "input_max": max(ins),
              "output_mean": statistics.mean(outs), "output_max": max(outs),
              "output_nulls_left_out_mean": statistics.mean(lean), "output_nulls_left_out_max": max(lean),
              "per_form_mean": statistics.mean(ins) + statistics.mean(outs),
              "per_form_mean_nulls_left_out": statistics.mean(ins) + statistics.mean(lean)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
