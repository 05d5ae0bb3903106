"""The code's shape where it matters to the next engineer: the batch does not know which
executor read its documents, and the executors do not know the batch."""

import ast

from folders import ROOT


def _imports(module: str) -> set[str]:
    """Every module a file imports, at its top or inside a function (relative names resolved)."""
    tree = ast.parse((ROOT / "extractor" / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = "extractor." + node.module if node.level == 1 and node.module else (node.module or "")
            found.add(base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_batch_and_its_executors_do_not_import_each_other():
    assert not {"extractor.ray", "extractor.workers"} & _imports("batch")
    for executor in ("ray", "executors", "jobs"):
        assert "extractor.batch" not in _imports(executor), executor
    assert "extractor.executors" in _imports("batch") and "extractor.jobs" in _imports("ray")
