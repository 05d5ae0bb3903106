"""The forms' vocabulary, read once from `templates.toml` (package data): every
label the mapping looks for, with its synonyms across the families of layout."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

Labels = tuple[str, ...]


@dataclass(frozen=True)
class Family:
    """A family of layout: how its forms are told apart, what they print, how they grade."""

    name: str
    kind: str  # project | department
    titles: Labels
    marks: Labels
    prints: Labels  # field paths every form of the family prints
    may_print: Labels  # printed by some of its forms
    grades: Labels  # the grade scales it uses (settings.GRADE_SCALES), its own first
    levels: bool = True  # its indicators print level-1 and level-2 labels

    def title_score(self, title: str) -> int:
        """How well a title names this family: the length of its longest marker in it."""
        return max((len(t) for t in self.titles if t in title), default=0)


@dataclass(frozen=True)
class Vocabulary:
    form_titles: Labels
    department_titles: Labels
    other_tables: Labels
    project_anchor: Labels
    department_anchor: Labels
    department: Labels
    department_head: Labels
    implementing_unit: Labels
    subordinate_units: Labels
    funding_block: Labels
    funding_columns: tuple[tuple[str, str], ...]  # (label, column), in the order tried
    project_rows: tuple[tuple[str, str], ...]  # (label, row)
    extra_rows: Labels  # rows kept by their labels (Funding.extra)
    department_rows: tuple[tuple[str, str], ...]
    goal_expected: Labels
    goal_actual: Labels
    goal_labels: frozenset[str]
    breakdown: Labels
    indicator_block: Labels
    indicator_header_first: Labels  # what the indicator table's header row opens with
    level1_words: Labels
    level2_words: Labels
    indicator_columns: tuple[tuple[str, str], ...]  # (label, field)
    level_parent: dict[str, str] = field(compare=False)  # a level-2 label → the one level-1 label it belongs under
    total: Labels
    grade: Labels
    families: tuple[Family, ...]
    remarks: Labels
    remark_groups: Labels  # a group label merged down beside remarks' labels (项目基本情况)
    prompts: Labels  # fragments of a template's instructions (a cell holding one is no value)
    furniture_labels: Labels
    furniture_lines: Labels

    @property
    def labels(self) -> frozenset[str]:
        """Every label a form prints (label keys), for telling labels from values."""
        return _all_labels(self)

    def family(self, name: str) -> Family | None:
        return next((f for f in self.families if f.name == name), None)

    def family_for(self, kind: str, title: str, labels: set[str]) -> Family:
        """The family a form of this kind, title and printed labels (their keys) is of:
        the best title match, then the most of its marks printed, then the first listed."""
        of_kind = [f for f in self.families if f.kind == kind]
        return max(of_kind, key=lambda f: (f.title_score(title), sum(m in labels for m in f.marks), -of_kind.index(f)))

    def is_prompt(self, text: str) -> bool:
        """A template's instructions (`1.预算执行率=预算执行数/调整后预算数,…的说明原因`)."""
        return any(p in text for p in self.prompts)

    def is_indicator_header(self, key: str) -> bool:
        """The indicator table's header row (its key: the row's cells run together),
        with or without a block label merged down the table's left (绩效指标, 绩效指标(90分);
        twice where a sheet's repeated print-title row runs into the merged label's text
        that the page also prints; its closing bracket lost, as a scan's reading drops it)."""
        return any(key.startswith(first) or any(re.match("(?:" + re.escape(b) + r"(\(\d+分\)?)?)+" + first, key) for b in self.indicator_block)
                   for first in self.indicator_header_first)


@cache
def _all_labels(v: Vocabulary) -> frozenset[str]:
    words = [*v.form_titles, *v.department_titles, *v.project_anchor, *v.department_anchor, *v.department,
             *v.implementing_unit, *v.subordinate_units, *v.funding_block, *v.goal_expected, *v.goal_labels,
             *v.breakdown, *v.indicator_block, *v.level1_words, *v.level2_words, *v.total, *v.grade,
             *v.furniture_labels, *v.remarks, *v.extra_rows, *(label for label, _ in v.funding_columns),
             *(label for label, _ in v.project_rows),
             *(label for label, _ in v.department_rows), *(label for label, _ in v.indicator_columns)]
    return frozenset(words)


def _pairs(table: dict[str, list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((label, name) for name, labels in table.items() for label in labels)


def _by_label_length(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Longer labels first, so 自评得分 is tried before 得分."""
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@cache
def vocabulary() -> Vocabulary:
    raw = tomllib.loads(files(__package__).joinpath("templates.toml").read_text(encoding="utf-8"))
    t, h, f, g, i = raw["titles"], raw["head"], raw["funding"], raw["goals"], raw["indicators"]
    return Vocabulary(
        form_titles=tuple(t["self_evaluation"]), department_titles=tuple(t["department"]),
        other_tables=tuple(t["other_tables"]),
        project_anchor=tuple(h["project_anchor"]), department_anchor=tuple(h["department_anchor"]),
        department=tuple(h["department"]), department_head=tuple(h["department_head"]), implementing_unit=tuple(h["implementing_unit"]),
        subordinate_units=tuple(h["subordinate_units"]),
        funding_block=tuple(f["block"]), funding_columns=_by_label_length(_pairs(f["columns"])),
        project_rows=_pairs(f["project_rows"]), department_rows=_pairs(f["department_rows"]),
        extra_rows=tuple(f["extra_rows"]["labels"]),
        goal_expected=tuple(g["expected"]), goal_actual=tuple(g["actual"]), goal_labels=frozenset(g["labels"]), breakdown=tuple(g["breakdown"]),
        indicator_block=tuple(i["block"]), indicator_header_first=tuple(i["header_first"]), level1_words=tuple(i["level1_words"]), level2_words=tuple(i["level2_words"]),
        indicator_columns=_pairs(i["columns"]),
        level_parent={level2: level1 for level1, level2s in i["hierarchy"].items() for level2 in level2s},
        total=tuple(raw["totals"]["total"]), grade=tuple(raw["totals"]["grade"]),
        families=tuple(Family(name=name, kind=fam["kind"], titles=tuple(fam["titles"]), marks=tuple(fam["marks"]),
                              prints=tuple(fam["prints"]), may_print=tuple(fam["may_print"]), grades=tuple(fam["grades"]),
                              levels=fam.get("levels", True))
                       for name, fam in raw["families"].items()),
        remarks=tuple(raw["remarks"]["labels"]), remark_groups=tuple(raw["remarks"]["groups"]), prompts=tuple(raw["prompts"]["fragments"]),
        furniture_labels=tuple(raw["furniture"]["labels"]), furniture_lines=tuple(raw["furniture"]["lines"]),
    )


VOCAB = vocabulary()
