"""A document's name in OUT (`<name>.json`, the tables' `document`): its content decides.

The same bytes (under the same suffix, which says how a file is read) are the same
document whatever path reached them: a result already in OUT for them keeps its name,
and copies given in one run are read once. Files of one
name and different bytes get readable names from their folders (`2023_自评表`,
`2024_自评表`), and a file never takes the name of another document already in OUT (one
with another path and other bytes) — nor one of the batch's own files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .io.outputs import OWN_FILES, result_files
from .read.documents import sha256_of

_RECORDED = re.compile(r'"path":\s*("(?:[^"\\]|\\.)*")\s*,\s*"sha256":\s*"([0-9a-f]{64})"')


def real(path: Path) -> Path:
    """The path with its links followed as far as they go (`Path.resolve` raises on a
    symbolic link loop; the file's own message says what it is)."""
    return Path(os.path.realpath(path))


@dataclass
class Naming:
    names: dict[Path, str] = field(default_factory=dict)  # the files to read -> their names
    copies: dict[Path, Path] = field(default_factory=dict)  # a file with the bytes of an earlier one -> that one
    others: dict[Path, list[Path]] = field(default_factory=dict)  # the other way: a file -> its copies
    digests: dict[Path, str | None] = field(default_factory=dict)  # each file's sha256 (None: not read)
    renamed: list[str] = field(default_factory=list)  # what was named apart, and why (said on the summary line)


def recorded(out_dir: Path) -> dict[str, tuple[str, str]]:
    """OUT's results: name -> (the path and sha256 it was made from), from each file's head."""
    found = {}
    for path in result_files([out_dir]) if out_dir.is_dir() else []:
        try:
            with open(path, encoding="utf-8") as fh:
                head = fh.read(8192)  # (the source comes first in a result file)
        except OSError:
            continue
        m = _RECORDED.search(head)
        if m:
            found[path.stem] = (json.loads(m.group(1)), m.group(2))
    return found


def _digest(path: Path, limit: int | None) -> str | None:
    try:
        if not path.is_file() or (limit is not None and path.stat().st_size > limit):
            return None
        return sha256_of(path)
    except OSError:
        return None


def _same_path(a: str, b: Path) -> bool:
    try:
        return real(Path(a)) == real(b)
    except OSError:
        return False


def name_documents(files: list[Path], out_dir: Path | None = None, limit: int | None = None) -> Naming:
    """Names for `files` (see the module). `limit`: files larger are not hashed (they are
    refused when read); they are named by their path alone."""
    naming = Naming()
    digests = naming.digests = {f: _digest(f, limit) for f in files}
    existing = recorded(out_dir) if out_dir is not None else {}
    # The same bytes by the same kind of name (the suffix says how a file is read: the
    # bytes of a .csv and of a .tsv are two readings)
    by_content = {(sha, Path(path).suffix.lower()): name for name, (path, sha) in existing.items()}
    first: dict[tuple[str, str], Path] = {}
    unique = []
    for f in files:
        key = (digests[f], f.suffix.lower())
        if key[0] is not None and key in first:
            naming.copies[f] = first[key]
            naming.others.setdefault(first[key], []).append(f)
            continue
        if key[0] is not None:
            first[key] = f
        unique.append(f)
    names = naming.names
    for f in unique:  # the same content as a result in OUT: that result's name
        key = (digests[f], f.suffix.lower())
        if key[0] is not None and key in by_content and by_content[key] not in names.values():
            names[f] = by_content[key]
    stems = Counter(f.stem for f in unique if f not in names)
    used = set(names.values())

    def taken(name: str, f: Path) -> str | None:
        """Why `name` is not `f`'s to take (None: it is)."""
        if name.lower() in OWN_FILES:
            return f"{name}.json is the batch's own file"
        if name in used:
            return "another input of this run has the name"
        if name in existing:
            path, sha = existing[name]
            if not _same_path(path, f) and sha != digests[f]:
                return f"{name}.json in the output folder is {path}"
        return None

    for f in unique:
        if f in names:
            continue
        name, why = f.stem, None
        if stems[f.stem] > 1:
            why = "another input of this run has the name"
        else:
            why = taken(name, f)
        if why is not None:
            name = _apart(f, lambda n: taken(n, f) is None)
            if stems[f.stem] == 1 or f.stem.lower() in OWN_FILES or f.stem in existing:
                naming.renamed.append(f"{f} as {name}.json ({why})")
        names[f] = name
        used.add(name)
    return naming


def _apart(f: Path, free) -> str:
    """A readable name for `f` that `free` accepts: its folders before its stem
    (`2024_自评表`, `years_2024_自评表`), else a hash of its path."""
    parents = [p for p in reversed(real(f).parent.parts) if p not in ("/", "")]
    for n in range(1, min(len(parents), 4) + 1):
        name = "_".join([*reversed(parents[:n]), f.stem])
        if free(name):
            return name
    return f"{f.stem}-{hashlib.sha1(str(real(f)).encode()).hexdigest()[:8]}"
