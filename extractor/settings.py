"""Checker conventions, with the national defaults.

Publishers differ in how they round, what they call the grades and where they
draw them, so none of this is hard-coded in the checker. Override with a TOML
file (`--config`) shaped like the model:

    rounding = ["truncate", "round"]
    budget_weight = 10
    [[grades]]
    label = "合格"
    min = 60
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


NATIONAL_GRADES = [
    GradeBand(label="优", min=Decimal(90)),
    GradeBand(label="良", min=Decimal(80)),
    GradeBand(label="中", min=Decimal(60)),
    GradeBand(label="差", min=Decimal(0)),
]
PASS_FAIL_GRADES = [GradeBand(label="合格", min=Decimal(60)), GradeBand(label="不合格", min=Decimal(0))]


def _scale(*bands: tuple[str, int]) -> list[GradeBand]:
    return [GradeBand(label=label, min=Decimal(low)) for label, low in bands]


# Scales the provinces print (DOMAIN.md: 优秀/良好/合格/不合格 and 优/良/合格/不合格, at 90/80/60).
PROVINCIAL_GRADES = [
    _scale(("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0)),
    _scale(("优", 90), ("良", 80), ("合格", 60), ("不合格", 0)),
]


class CheckSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How publishers print a computed figure: an identity passes when the printed
    # figures admit a true value under one of these (check.precision: no tolerance
    # beyond the printed precision).
    rounding: list[Rounding] = Field(default_factory=lambda: ["truncate", "round"], min_length=1)
    budget_weight: Decimal = Decimal(10)
    total_weight: Decimal = Decimal(100)
    grades: list[GradeBand] = Field(default_factory=lambda: list(NATIONAL_GRADES))
    # Other scales some publishers print; a printed label from one of these is
    # checked against that scale instead of being reported as unknown. A label on
    # several scales (合格) passes when one of them agrees with the total.
    alternative_grades: list[list[GradeBand]] = Field(default_factory=lambda: [list(PASS_FAIL_GRADES), *map(list, PROVINCIAL_GRADES)])
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
