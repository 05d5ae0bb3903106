"""Checker conventions, with the national defaults.

Publishers differ in how they round, what they call the grades and where they
draw them, so none of this is hard-coded in the checker. Override with a TOML
file (`--config`) shaped like the model:

    rounding = ["truncate", "round"]
    budget_weight = 10
    [[grades]]            # your publishers' own scale, tried before the family's
    label = "合格"
    min = 60
    [[grades]]
    label = "不合格"
    min = 0
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

Rounding = Literal["truncate", "round"]


class GradeBand(BaseModel):
    label: str
    min: Decimal  # inclusive lower bound of the total score


def _scale(*bands: tuple[str, int]) -> list[GradeBand]:
    return [GradeBand(label=label, min=Decimal(low)) for label, low in bands]


# The scales forms print, by the name a family gives them (forms/templates.toml):
# the national rule, the provinces' (DOMAIN.md: 优秀/良好/合格/不合格 and 优/良/合格/不合格,
# at 90/80/60), and pass/fail, which no family uses unless a configuration names it.
GRADE_SCALES = {
    "national": _scale(("优", 90), ("良", 80), ("中", 60), ("差", 0)),
    "provincial": _scale(("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0)),
    "provincial_short": _scale(("优", 90), ("良", 80), ("合格", 60), ("不合格", 0)),
    "pass_fail": _scale(("合格", 60), ("不合格", 0)),
}
NATIONAL_GRADES = GRADE_SCALES["national"]


class CheckSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How publishers print a computed figure: an identity passes when the printed
    # figures admit a true value under one of these (check.precision: no tolerance
    # beyond the printed precision).
    rounding: list[Rounding] = Field(default_factory=lambda: ["truncate", "round"], min_length=1)
    budget_weight: Decimal = Decimal(10)
    total_weight: Decimal = Decimal(100)
    # A form's grade is judged on the scales its family uses (their names in
    # forms/templates.toml), the first that has the printed word. `grades`, when set,
    # is your publishers' own scale and comes before the family's; `alternative_grades`
    # after them; `scales` defines the named ones.
    grades: list[GradeBand] | None = None
    alternative_grades: list[list[GradeBand]] = Field(default_factory=list)
    scales: dict[str, list[GradeBand]] = Field(default_factory=lambda: {k: list(v) for k, v in GRADE_SCALES.items()})
    # Qualitative scoring bands (share of the weight) from the national guidance.
    achieved_min_share: Decimal = Decimal("0.8")
    partial_min_share: Decimal = Decimal("0.6")

    @classmethod
    def load(cls, path: Path | None) -> "CheckSettings":
        """The defaults, overridden by a TOML file; ConfigError names what is wrong."""
        if path is None:
            return cls()
        try:
            with open(path, "rb") as fh:
                return cls.model_validate(tomllib.load(fh))
        except OSError as exc:
            raise ConfigError(f"{path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not TOML ({exc})") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            raise ConfigError(f"{path}: {where}: {err['msg']}") from None
