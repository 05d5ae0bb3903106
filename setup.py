"""A wheel carries the prompts and the evaluation set inside the package (see
extractor/resources.py); everything else is in pyproject.toml."""

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
_resources = runpy.run_path(str(ROOT / "extractor" / "resources.py"))  # (stdlib only: no package import)
SHIPPED, SUFFIXES = _resources["SHIPPED"], _resources["SHIPPED_SUFFIXES"]


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the repository's folders
        target = Path(self.build_lib) / "extractor" / "_data"
        for folder in SHIPPED:
            for src in sorted((ROOT / folder).rglob("*")):
                if src.is_file() and src.suffix.lower() in SUFFIXES:
                    dst = target / src.relative_to(ROOT)
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)


setup(cmdclass={"build_py": BuildWithData})
