"""The forms' vocabulary, read once from `templates.toml` (package data): every
label the mapping looks for, with its synonyms across the families of layout."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

Labels = tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    form_titles: Labels
    department_titles: Labels
    other_tables: Labels
    project_anchor: Labels
    department_anchor: Labels
    department: Labels
    implementing_unit: Labels
    subordinate_units: Labels
    funding_block: Labels
    funding_columns: tuple[tuple[str, str], ...]  # (label, column), in the order tried
    project_rows: tuple[tuple[str, str], ...]  # (label, row)
    department_rows: tuple[tuple[str, str], ...]
    goal_expected: Labels
    goal_labels: frozenset[str]
    breakdown: Labels
    indicator_block: Labels
    level1_words: Labels
    level2_words: Labels
    indicator_columns: tuple[tuple[str, str], ...]  # (label, field)
    total: Labels
    grade: Labels

    def is_indicator_header(self, key: str) -> bool:
        """The indicator table's header row (its key: the row's cells run together),
        with or without a block label merged down the table's left (绩效指标)."""
        first = self.indicator_columns[0][0]
        return key.startswith(first) or any(key.startswith(b + first) for b in self.indicator_block)


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
        department=tuple(h["department"]), implementing_unit=tuple(h["implementing_unit"]),
        subordinate_units=tuple(h["subordinate_units"]),
        funding_block=tuple(f["block"]), funding_columns=_by_label_length(_pairs(f["columns"])),
        project_rows=_pairs(f["project_rows"]), department_rows=_pairs(f["department_rows"]),
        goal_expected=tuple(g["expected"]), goal_labels=frozenset(g["labels"]), breakdown=tuple(g["breakdown"]),
        indicator_block=tuple(i["block"]), level1_words=tuple(i["level1_words"]), level2_words=tuple(i["level2_words"]),
        indicator_columns=_pairs(i["columns"]),
        total=tuple(raw["totals"]["total"]), grade=tuple(raw["totals"]["grade"]),
    )


VOCAB = vocabulary()
