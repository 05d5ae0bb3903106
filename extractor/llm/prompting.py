"""Prompts from `prompts/`, and the messages of one request.

Document text is data: it goes between <document> markers, with any marker
inside it neutralised, after a system prompt that says so.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import lru_cache

from ..resources import prompts_dir

EXTRACT = "extract_form.v4"
REPAIR = "repair.v2"


@dataclass(frozen=True)
class Prompt:
    version: str
    text: str


@lru_cache(maxsize=None)
def load_prompt(name: str) -> Prompt:
    raw = (prompts_dir() / f"{name}.md").read_text(encoding="utf-8")
    m = re.match(r"---\nversion: (\S+)\n---\n(.*)", raw, re.S)
    if not m:
        raise ValueError(f"prompt {name} has no version header")
    return Prompt(m.group(1), m.group(2).strip())


def delimit(text: str, tag: str = "document") -> str:
    """Text from the document between markers; no marker inside it (of either kind
    this module writes) can close them."""
    safe = re.sub(r"</?\s*(?:document|findings)\s*>", lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text, flags=re.I)
    return f"<{tag}>\n{safe}\n</{tag}>"


def user_content(text: str, images: list[bytes], pages: list[int]) -> str | list[dict]:
    """The request's user message: a plain string when there is no image (servers
    whose chat templates take only strings drop a list of parts: llama.cpp's
    llama-2, gemma and chatml formats sent the model no document), else text and
    image parts."""
    body = f"Page {', '.join(map(str, pages))}, cells split by tabs:\n{delimit(text)}"
    if not images:
        return body
    parts: list[dict] = [{"type": "text", "text": body}]
    for png in images:
        parts.append({"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}})
    return parts


def extraction_messages(text: str, images: list[bytes], pages: list[int]) -> list[dict]:
    return [
        {"role": "system", "content": load_prompt(EXTRACT).text},
        {"role": "user", "content": user_content(text, images, pages)},
    ]


def repair_message(findings: list[str]) -> dict:
    """The repair request: the findings quote the document (names, labels), so they go
    between markers like the document itself."""
    body = load_prompt(REPAIR).text.replace("{findings}", delimit("\n".join(f"- {f}" for f in findings), tag="findings"))
    return {"role": "user", "content": body}
