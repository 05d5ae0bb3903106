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

EXTRACT = "extract_form.v1"
REPAIR = "repair.v1"


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


def delimit(text: str) -> str:
    """Document text between markers; a marker inside the text cannot close them."""
    safe = re.sub(r"</?\s*document\s*>", lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text, flags=re.I)
    return f"<document>\n{safe}\n</document>"


def user_content(text: str, images: list[bytes], pages: list[int]) -> list[dict]:
    parts: list[dict] = [{
        "type": "text",
        "text": f"The form on page(s) {', '.join(map(str, pages))}. Its words in reading order, cells separated by tabs:\n{delimit(text)}",
    }]
    for png in images:
        parts.append({"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}})
    return parts


def extraction_messages(text: str, images: list[bytes], pages: list[int]) -> list[dict]:
    return [
        {"role": "system", "content": load_prompt(EXTRACT).text},
        {"role": "user", "content": user_content(text, images, pages)},
    ]


def repair_message(findings: list[str]) -> dict:
    body = load_prompt(REPAIR).text.replace("{findings}", "\n".join(f"- {f}" for f in findings))
    return {"role": "user", "content": body}
