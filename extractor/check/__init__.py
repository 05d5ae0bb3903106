"""The checker: arithmetic every form must satisfy (`arithmetic`) and whether its
values are printed on its pages (`grounding`). Findings, never exceptions."""

from .arithmetic import check_form, error_count

__all__ = ["check_form", "error_count"]
