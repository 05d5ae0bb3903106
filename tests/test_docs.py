"""The README's commands are the ones that work, and CI runs the test command."""

import re
import shlex

from typer.testing import CliRunner

from extractor.cli import app


def _quickstart(root):
    text = (root / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, re.S)


def test_quickstart_has_exactly_two_commands(root):
    blocks = _quickstart(root)
    assert len(blocks) == 2
    assert "pip install" in blocks[0] and "extractor extract" in blocks[0] and "ocr" in blocks[0]
    assert "pip install" in blocks[1] and "pytest" in blocks[1]


def test_quickstart_main_job_runs(root, tmp_path, monkeypatch):
    monkeypatch.chdir(root)
    job = _quickstart(root)[0].split("&&", 1)[1].strip()
    args = shlex.split(job)[1:]
    args[args.index("-o") + 1] = str(tmp_path / "out")
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "run_on.json").exists() and (tmp_path / "out" / "forms.xlsx").exists()


def test_ci_runs_the_readme_test_command(root):
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    assert _quickstart(root)[1].strip() in ci
    assert "extractor eval" in ci
