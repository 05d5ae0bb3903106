"""Verification without a grid: an answer's values found in the text in the order the
form prints them.

Where the text keeps no table (a crawler's one-line form, one cell per line, figures
run together) there are no cells to place a value in, and grounding only asks whether
it is printed *somewhere*. Here each record row is tied to its stretch of the text:

    a funding row       from its label (年度资金总额, 其中：当年财政拨款 …) to the next label
    an indicator row    from its name to the next row's name (names in the record's order)
    the total           from 总分/合计 on

and each of the row's values must be printed inside that stretch — as many times as
the row holds it (a weight and a score of 5.00 need two 5.00s), the target before the
actual — and each indicator's level labels must be the nearest ones printed before it.
Figures left over in an indicator's stretch once its values are taken are a row the
reading dropped. A value printed nowhere is grounding's (ungrounded_value) and not
repeated here. What cannot be placed is an error naming the field; the form's notes
say how many values were placed by alignment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..findings import Code, field_zh
from ..forms.numbers import DASHES, compact, compact_normal, nfkc
from ..forms.templates import VOCAB
from ..models import DepartmentForm, Finding, ProjectForm, funding_rows
from .grounding import printed_text, runs_together

Form = ProjectForm | DepartmentForm

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_OPERATORS = frozenset("≥≤<>=＝＜＞")
_ZEROS = re.compile(r"\.0+")
_TRAILING = re.compile(r"0+")
_FIGURE = re.compile(r"(?<![.\d])\d+\.\d+|(?<![.\d])\d{2,}(?![.\d])")
_ROW_LABELS: dict[str, tuple[str, ...]] = {}
for _label, _row in (*VOCAB.project_rows, *VOCAB.department_rows):
    _ROW_LABELS.setdefault(_row, ())
    _ROW_LABELS[_row] += (compact(_label),)
_ALL_ROW_LABELS = tuple(sorted({lab for labs in _ROW_LABELS.values() for lab in labs}, key=len, reverse=True))
_TOTAL = tuple(compact(t) for t in VOCAB.total)
# What ends a funding row's stretch: the next row's label, or the block after the funding
_ROW_ENDS = tuple(sorted({*_ALL_ROW_LABELS, *(compact(t) for t in (*VOCAB.goal_labels, *VOCAB.goal_expected,
                                                                  *VOCAB.indicator_header_first, *VOCAB.indicator_block,
                                                                  *VOCAB.total))} - {""}, key=len, reverse=True))
_GRADE = tuple(compact(t) for t in VOCAB.grade)
# What opens the indicator table: its rows are looked for after it (a goal's text may
# print an indicator's name)
_INDICATOR_HEAD = tuple(compact(t) for t in (*VOCAB.indicator_header_first, *VOCAB.indicator_block))


def _norm(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return _THOUSANDS.sub("", compact_normal(nfkc(str(value))))


def _err(code: Code, path: str, message: str, message_zh: str, found: object = None, expected: object = None) -> Finding:
    return Finding(code=code, severity="error", field=path, message=message, message_zh=message_zh,
                   found=found, expected=expected)


@dataclass
class _Text:
    """The piece's text, normalised like a value, and the stretches already taken."""

    text: str
    taken: list[tuple[int, int]] = field(default_factory=list)
    # Figures set apart in the source (cells split by spaces, tabs, lines): a figure is
    # matched whole there (5.00 is not the end of ≥95.00), but inside figures run together
    apart: bool = True
    cuts: frozenset[int] = frozenset()  # where the source had white space between two pieces

    def find(self, value: str, start: int, end: int) -> int:
        """The first untaken occurrence of `value` in [start, end), or -1."""
        at = self.text.find(value, start, end)
        while at >= 0 and (any(a < at + len(value) and at < b for a, b in self.taken) or self._inside_figure(value, at)):
            at = self.text.find(value, at + 1, end)
        return at

    def _inside_figure(self, value: str, at: int) -> bool:
        """A match that is part of a longer figure or cell: 5.00 in ≥95.00, 20 in 120.00,
        98.00(%) in the target ≥98.00(%). Where figures run together (no white space
        parts them) a figure may start right after another's two decimals."""
        t = self.text
        if at and at not in self.cuts and t[at - 1] in _OPERATORS and value[:1] not in _OPERATORS:
            return True
        if not value[:1].isdigit():
            return False
        if at and at not in self.cuts and (t[at - 1].isdigit() or t[at - 1] == "."):
            if self.apart or not (at >= 3 and t[at - 3] == "." and t[at - 2: at].isdigit()):
                return True
        end = at + len(value)
        if end >= len(t) or end in self.cuts or not value[-1].isdigit():
            return False
        after = t[end]
        # (82 for a printed 82.00, 4088.2 for 4088.20 are the same figure; 82 in 82.50 is not)
        if "." in value:
            if not after.isdigit():
                return False
            zeros = _TRAILING.match(t, end) if after == "0" else None
            if zeros and (zeros.end() in self.cuts or zeros.end() == len(t) or not t[zeros.end()].isdigit()):
                return False
            if self.apart:
                return True
            # Run together, a figure ends after its two decimals (28.1 is not the 28.16 of
            # 28.1628.16; 4088.2 is the 4088.20 of 4088.2082.00)
            places = len(value.rsplit(".", 1)[1])
            return places < 2 and not (zeros and places + zeros.end() - end >= 2)
        if after.isdigit():
            return True
        if after != ".":
            return False
        zeros = _ZEROS.match(t, end)
        if zeros is None:
            return True
        z = zeros.end()
        return not (z in self.cuts or z == len(t) or not t[z].isdigit() or not self.apart)

    def take(self, value: str, start: int, end: int) -> int:
        at = self.find(value, start, end)
        if at >= 0:
            self.taken.append((at, at + len(value)))
        return at

    def left_over(self, start: int, end: int) -> str:
        """The stretch's text not taken by a value."""
        keep = [True] * (end - start)
        for a, b in self.taken:
            for k in range(max(a, start), min(b, end)):
                keep[k - start] = False
        return "".join(ch for ch, k in zip(self.text[start:end], keep) if k)


def _printed(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and compact(value) in DASHES)


def check_alignment(form: Form, page_text: str | Sequence[str]) -> list[Finding]:
    """Findings for the values of `form` not printed in their rows' stretch of the text."""
    pages = (page_text,) if isinstance(page_text, str) else tuple(page_text)
    text = _piece_text(pages)
    out = list(_funding(form, text))
    out += _indicators(form, text, max((b for _, b in text.taken), default=0))
    out += _total(form, text)
    placed = len(text.taken)
    form.notes = [*form.notes, (f"verified by alignment with the text: {placed} value(s) placed in "
                                f"their rows, {len(out)} not")]
    return out


def _piece_text(pages: Sequence[str]) -> _Text:
    """The pages' text as values are normalised, remembering where white space parted two
    pieces (a figure is whole when a space, a tab or a line ends it)."""
    parts, cuts, n = [], set(), 0
    for page in pages:
        for token in page.split():
            piece = _THOUSANDS.sub("", printed_text(token))
            parts.append(piece)
            n += len(piece)
            cuts.add(n)
    return _Text("".join(parts), apart=not any(map(runs_together, pages)), cuts=frozenset(cuts))


def _grade(form: Form, text: _Text) -> Iterator[Finding]:
    """The grade is the text right after the grade label (评分等级 优); one character is
    printed anywhere, so grounding cannot vouch for it."""
    grade = getattr(form, "grade", None)
    if not grade:
        return
    at, n = _label_at(text, _GRADE, 0)
    g = _norm(grade)
    if at >= 0 and text.take(g, at + n, at + n + len(g) + 4) >= 0:
        return
    where = "after its label" if at >= 0 else "anywhere: the text prints no grade label"
    yield _err(Code.MISPLACED_VALUE, "grade", f"grade = {grade!r} is not printed {where}",
               f"评分等级“{grade}”不在其标签之后" if at >= 0 else f"评分等级“{grade}”：文中没有评分等级", found=grade)


def _label_at(text: _Text, labels: Sequence[str], start: int) -> tuple[int, int]:
    """(position, length) of the first of `labels` printed at or after `start`."""
    best = (-1, 0)
    for lab in labels:
        at = text.text.find(lab, start)
        if at >= 0 and (best[0] < 0 or at < best[0] or (at == best[0] and len(lab) > best[1])):
            best = (at, len(lab))
    return best


def _place(text: _Text, path: str, values: list[tuple[str, object]], start: int, end: int, where: str,
           where_zh: str) -> Iterator[Finding]:
    """Each (column, value) of a row taken from [start, end); an error for each not there."""
    for col, value in values:
        key = f"{path}.{col}" if path else col
        if not _printed(value):
            continue
        v = _norm(value)
        if text.take(v, start, end) >= 0:
            continue
        if text.text.find(v) < 0:
            continue  # printed nowhere: grounding names it
        yield _err(Code.MISPLACED_VALUE, key, f"{key} = {v!r} is printed on the form, but not in {where}",
                   f"{key} = “{v}” 在页面中有印，但不在{where_zh}", found=value)


def _funding(form: Form, text: _Text) -> Iterator[Finding]:
    cursor = 0
    for name, row in funding_rows(form.funding):
        labels = tuple(lab for lab in _ROW_LABELS.get(name, ()) if lab)
        at, n = _label_at(text, labels, cursor) if labels else (-1, 0)
        if at < 0:
            continue  # a row whose label is not printed (an extra row): grounding's only
        nxt, _ = _label_at(text, _ROW_ENDS, at + n)
        end = nxt if nxt >= 0 else len(text.text)
        end = min(end, at + n + 200)  # (a row's figures follow its label closely)
        values = [(col, getattr(row, col)) for col in type(row).model_fields if isinstance(getattr(row, col), Decimal)]
        yield from _place(text, f"funding.{name}", values, at + n, end, f"its row (after '{text.text[at:at + n]}')",
                          f"其所在行（“{text.text[at:at + n]}”之后）")
        cursor = at + n


def _nearest_label(text: str, before: int, candidates: set[str]) -> str | None:
    """The level label printed last before `before` (the longest where two end together)."""
    best, best_end = None, -1
    for lab in candidates:
        at = text.rfind(lab, 0, before)
        if at >= 0 and (at + len(lab) > best_end or (at + len(lab) == best_end and best is not None and len(lab) > len(best))):
            best, best_end = lab, at + len(lab)
    return best


def _inside_label(text: str, at: int, n: int, labels: Sequence[str]) -> bool:
    """Whether text[at:at+n] is part of a level label printed there."""
    for lab in labels:
        if len(lab) <= n:
            continue
        k = text.find(lab, max(0, at - len(lab) + n), at + len(lab))
        if k >= 0 and k <= at and at + n <= k + len(lab):
            return True
    return False


def _indicators(form: Form, text: _Text, after_funding: int) -> Iterator[Finding]:
    t = text.text
    names = [_norm(i.name) if i.name else "" for i in form.indicators]
    # Each row's name, in the record's order: its stretch runs to the next row's name
    starts: list[int] = []
    head, n = _label_at(text, _INDICATOR_HEAD, after_funding)
    cursor = head + n if head >= 0 else after_funding
    labels = sorted({_norm(w) for w in (*VOCAB.level1_words, *VOCAB.level2_words)}
                    | {_norm(getattr(i, lv)) for i in form.indicators for lv in ("level1", "level2") if getattr(i, lv, None)},
                    key=len, reverse=True)
    for i, name in enumerate(names):
        at = text.find(name, cursor, len(t)) if name else -1
        while at >= 0 and _inside_label(t, at, len(name), labels):  # (a name 满意度 inside the label 满意度指标)
            at = text.find(name, at + 1, len(t))
        if at < 0 and i and name == names[i - 1] and starts[-1] >= 0:
            starts.append(starts[-1])  # (one name cell merged down several rows: printed once)
            continue
        if at < 0 and name and t.find(name) >= 0:
            yield _err(Code.MISPLACED_VALUE, f"indicators[{i}]",
                       f"indicators[{i}] ({form.indicators[i].name!r}) is printed, but not after the row before it: "
                       "the reading's rows are not in the form's order (or a row is repeated)",
                       f"第{i + 1}项指标“{form.indicators[i].name}”与表中行的顺序不符（或重复）", found=form.indicators[i].name)
        if at >= 0:
            text.taken.append((at, at + len(name)))
            cursor = at + len(name)
        starts.append(at)
    last = max([s for s in starts if s >= 0], default=0)
    total_at = min((a for a in (_label_at(text, _TOTAL, last)[0], _label_at(text, _GRADE, last)[0]) if a >= 0), default=-1)
    unlabelled_total = _label_at(text, _TOTAL, last)[0] < 0
    level_words = {lv: {_norm(w) for w in words} | {_norm(getattr(i, lv)) for i in form.indicators if getattr(i, lv, None)}
                   for lv, words in (("level1", VOCAB.level1_words), ("level2", VOCAB.level2_words))}
    label_from: dict[str, int] = {}
    for i, (ind, at) in enumerate(zip(form.indicators, starts)):
        if at < 0:
            continue
        end = next((s for s in starts[i + 1:] if s > at), total_at if total_at > at else len(t))
        path = f"indicators[{i}]"
        merged = i > 0 and starts[i - 1] == at  # (its name printed once, for the row above too)
        if not merged:
            label_from = {"level1": at, "level2": at}
        for lv in ("level1", "level2"):
            own = getattr(ind, lv, None)
            if not own or lv not in type(ind).model_fields:
                continue
            if merged:  # (the labels of rows under one merged name follow the name, in the rows' order)
                k = t.find(_norm(own), label_from[lv], end)
                if k >= 0:
                    label_from[lv] = k
                    continue
            other = getattr(ind, "level2" if lv == "level1" else "level1", None)
            nearest = _nearest_label(t, at, level_words[lv] - {"", _norm(other or "")})
            if nearest is not None and nearest != _norm(own) and not nearest.endswith(_norm(own)):
                yield _err(Code.MISPLACED_VALUE, f"{path}.{lv}",
                           f"{path}.{lv} = {own!r}, but the label printed last before the row is {nearest!r}",
                           f"{field_zh(path + '.' + lv)} = “{own}”，但该行之前最近的标签为“{nearest}”", found=own, expected=nearest)
        body = at + len(names[i])
        # The target before the actual (two columns a model swaps), then the rest anywhere in the stretch
        after = body
        for col in ("target", "actual"):
            value = getattr(ind, col, None)
            if not _printed(value):
                continue
            v = _norm(value)
            got = text.take(v, after, end)
            if got >= 0:
                after = got + len(v)
            elif t.find(v) >= 0 and text.find(v, body, end) < 0:  # (the row named: its other text may be this one's)
                yield _err(Code.MISPLACED_VALUE, path,
                           f"{path}.{col} = {v!r} is printed on the form, but not in its row (after {ind.name!r})",
                           f"{field_zh(path + '.' + col)} = “{v}” 在页面中有印，但不在该行（“{ind.name}”之后）", found=value)
            elif t.find(v) >= 0:  # (the row named: both of its values are wrong)
                yield _err(Code.MISPLACED_VALUE, path,
                           f"{path}: {col} = {v!r} is printed in its row before the value read as the "
                           f"{'actual' if col == 'target' else 'target'}: the two are swapped",
                           f"{field_zh(path + '.' + col)} = “{v}” 与另一列的位置颠倒", found=value)
        rest = [(col, getattr(ind, col, None)) for col in ("weight", "score", "deviation_reason")]
        yield from _place(text, path, rest, body, end, f"its row (after {ind.name!r})", f"该行（“{ind.name}”之后）")
        group_opens = i == 0 or getattr(form.indicators[i - 1], "level1", None) != getattr(ind, "level1", None)
        if getattr(ind, "level1_weight", None) is not None and group_opens:
            # The group's weight, printed once beside its merged level-1 label (before the row's name)
            label = t.rfind(_norm(ind.level1), 0, at) if ind.level1 else -1
            yield from _place(text, path, [("level1_weight", ind.level1_weight)], max(label, 0), end,
                              f"its level-1 group (after {ind.level1!r})", f"其一级指标（“{ind.level1}”之后）")
        if any(s == at for s in starts[i + 1:]):
            continue  # (the leftover of rows under one merged name is judged at the last of them)
        if merged:
            yield from _unused_labels(form, t, at, end, starts, level_words["level2"])
        if unlabelled_total and all(s <= at for s in starts[i + 1:]):
            # (no 总分 label: the total's two figures close the last row's stretch)
            yield from _place(text, "", [("total_weight", form.total_weight), ("total_score", form.total_score)],
                              body, end, "the figures after the last row (the total, printed with no label)",
                              "最后一行之后的数字（未标注的总分）")
        left = text.left_over(body, end)
        for w in sorted(level_words["level1"] | level_words["level2"], key=len, reverse=True):
            left = left.replace(w, "") if w else left
        figures = _FIGURE.findall(left)
        if len(figures) >= 2:
            lead = re.split(r"[\d=≥≤<>]", left, maxsplit=1)[0][:40]
            yield _err(Code.DROPPED_ROW, path,
                       f"after {path} ({ind.name!r}) the text prints figures no field holds ({left[:60]!r}): "
                       "a row the reading dropped?",
                       f"第{i + 1}项指标“{ind.name}”之后的文字中有未读取的数值（{left[:60]}），可能漏读了一行",
                       found=None, expected=lead or None)


def _unused_labels(form: Form, t: str, at: int, end: int, starts: list[int], words: set[str]) -> Iterator[Finding]:
    """Rows under one merged name print their level-2 labels after it, one each: a label
    printed there that no row of the group carries means a row holds another's label."""
    group = [j for j, s in enumerate(starts) if s == at]
    rows = [form.indicators[j] for j in group]
    carried = {_norm(r.level2) for r in rows if r.level2}
    if group[-1] + 1 < len(form.indicators):  # (the next row's labels open its own stretch, before its name)
        nxt = form.indicators[group[-1] + 1]
        carried |= {_norm(v) for v in (nxt.level1, nxt.level2) if v}
    texts = "".join(_norm(v) for r in rows for v in (r.name, r.target, r.actual) if v)
    printed = {w for w in words if w and w in t[at:end] and w not in texts}
    unused = sorted(w for w in printed if w not in carried and not any(w in c for c in carried))
    if not unused:
        return
    twins = [j for k, j in enumerate(group) if k and _norm(form.indicators[j].level2 or "") == _norm(form.indicators[group[k - 1]].level2 or "")]
    for j in twins or group[:1]:
        yield _err(Code.MISPLACED_VALUE, f"indicators[{j}].level2",
                   f"indicators[{j}].level2 = {form.indicators[j].level2!r}, and the rows under its merged name leave "
                   f"{', '.join(map(repr, unused))} printed there unused: a row holds another's label",
                   f"第{j + 1}项指标的二级指标“{form.indicators[j].level2}”存疑：同组印有未被使用的标签“{'、'.join(unused)}”",
                   found=form.indicators[j].level2)


def _total(form: Form, text: _Text) -> Iterator[Finding]:
    at, n = _label_at(text, _TOTAL, max((b for _, b in text.taken), default=0))
    yield from _grade(form, text)
    if at < 0:
        return
    values = [(col, getattr(form, col)) for col in ("total_weight", "total_score")]
    yield from _place(text, "", values, at + n, min(len(text.text), at + n + 40), "the total's row", "总分行")
