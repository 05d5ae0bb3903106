"""The one pipeline path and its two consumers; finding codes and their owners."""

import pytest


@pytest.fixture
def sample(root):
    return root / "fixtures" / "pdf" / "run_on.pdf"


def test_the_streamed_result_file_equals_the_collected_result(tmp_path, sample):
    """extract_to_json writes each form as it comes; the file reads back as the
    same record extract_document returns."""
    from extractor.io.outputs import load_document_json
    from extractor.pipeline import ExtractOptions, extract_document, extract_to_json

    options = ExtractOptions(engine="rules")
    stats = extract_to_json(sample, tmp_path / "run_on.json", options)
    streamed = load_document_json(tmp_path / "run_on.json")
    collected = extract_document(sample, options)
    assert stats.forms == len(collected.forms) == 12
    assert streamed.model_dump(exclude={"seconds"}) == collected.model_dump(exclude={"seconds"})


def test_every_finding_code_has_one_owner():
    from extractor.findings import Code, Owner, codes_of, owner_of

    assert sorted(c for o in Owner for c in codes_of(o)) == sorted(Code)
    assert owner_of("read_poorly") == Owner.TRIAGE and owner_of("total_score") == Owner.CHECKER
    with pytest.raises(ValueError):
        owner_of("no_such_code")


def test_a_long_text_export_is_read_under_a_budget_per_piece_of_work(tmp_path, monkeypatch, root):
    """Filler between forms (a 200 MB export holding one form) is timed in pieces of
    50,000 lines, not as one step that the page budget stops."""
    from extractor import workers
    from extractor.pipeline import extract_document

    seed = (root / "fixtures" / "text" / "004_f03db79725452826.txt").read_text(encoding="utf-8")
    path = tmp_path / "big.txt"
    path.write_text(seed + "\n" + "本年度我单位认真贯彻落实各项工作部署。\n" * 180_000 + seed, encoding="utf-8")
    steps: list[str] = []
    monkeypatch.setattr(workers, "_report", lambda what, timed: steps.append(what))
    result = extract_document(path)
    assert len(result.forms) == 2
    reading = [s for s in steps if s.startswith("reading the text")]
    assert len(reading) >= 4, steps[:10]


def test_an_error_on_a_merged_level_label_names_the_rows_that_carry_it():
    """A merged label read once and named (low confidence) is the reading of every row its
    merged cell spans, above or below the row it was read on; rows with a label of their
    own, or another label, are not named."""
    from decimal import Decimal

    from extractor.models import FieldSource, Finding, Indicator, ProjectForm
    from extractor.pipeline import _carried_doubts

    labels = ["产出指标", "服务对家两息度指你", "服务对家两息度指你", "服务对家两息度指你", "效益指标"]
    form = ProjectForm(project_name="x", indicators=[Indicator(level1=a, level2="x", name=f"n{i}", weight=Decimal(5), score=Decimal(5))
                                                     for i, a in enumerate(labels)])
    form.provenance = {f"indicators[{i}].level1": FieldSource(engine="ocr+rules", raw=labels[i]) for i in (0, 2, 4)}
    form.findings = [Finding(code="low_confidence", severity="error", field="indicators[2].level1", message="read at 0.60")]
    assert [f.field for f in _carried_doubts(form)] == ["indicators[3].level1", "indicators[1].level1"]


def test_an_operator_lost_on_a_scan_names_its_row():
    """Sichuan prints the operator in a column of its own (指标性质); a lone `=` is short and
    was dropped as a speck on a 200-dpi scan: `=100.00%` read `100.00%`, silently. Where
    other rows print theirs, a figure with none is named on a page read by OCR."""
    from decimal import Decimal

    from extractor.models import FieldSource, Indicator, ProjectForm
    from extractor.pipeline import _contradicted_readings

    parts = [["定性", "及时", ""], ["", "100.00", "%"], ["≥", "90.00", "%"]]
    form = ProjectForm(project_name="x", indicators=[Indicator(level1="产出指标", level2="数量指标", name=f"n{i}", target="".join(p),
                                                               target_parts=p, weight=Decimal(5), score=Decimal(5)) for i, p in enumerate(parts)])
    form.provenance = {f"indicators[{i}].target": FieldSource(engine="ocr+rules", page=3, raw=p[1]) for i, p in enumerate(parts)}
    assert [f.field for f in _contradicted_readings(form, {3})] == ["indicators[1]"]
    assert _contradicted_readings(form, {4}) == []  # (on a text layer the form prints it so)


def test_a_yes_no_or_unit_column_a_scan_misread_names_its_row():
    """Chongqing prints 是否核心指标 (是/否) and 计量单位 for every figure. A 150-dpi scan read
    否 as `杏`, left a 否 unread, and lost the lone `%` of a `100%` row's unit, each with
    every other cell of the row sure: named where the column's other rows print theirs, on
    a page read by OCR. Not a qualitative row's (Sichuan's 定性 | =100% prints no unit)."""
    from decimal import Decimal

    from extractor.models import DepartmentForm, DepartmentIndicator, FieldSource
    from extractor.pipeline import _contradicted_readings

    def form(rows):
        f = DepartmentForm(department="x", indicators=[
            DepartmentIndicator(name=f"n{i}", target=p[1], target_parts=p, core=core, weight=Decimal(5), score=Decimal(5))
            for i, (p, core) in enumerate(rows)])
        f.provenance = {f"indicators[{i}].target": FieldSource(engine="ocr+rules", page=3, raw=p[1]) for i, (p, _) in enumerate(rows)}
        return f

    rows = [(["定量指标", "39", "项"], "是"), (["定量指标", "100%", "%"], "否"), (["定量指标", "100%", ""], "否"),
            (["定量指标", "30", "人"], "杏"), (["定量指标", "12", "个月"], None), (["定性指标", "及时", ""], "否")]
    assert [f.field for f in _contradicted_readings(form(rows), {3})] == ["indicators[3]", "indicators[4]", "indicators[2]"]
    assert _contradicted_readings(form(rows), {4}) == []  # (a text layer prints what it prints)
    sichuan = [(["定性", "=100%", ""], None), (["≥", "80.00", "%"], None), (["≥", "3.00", "人"], None)]
    assert _contradicted_readings(form(sichuan), {3}) == []


def test_an_operator_lost_from_a_figures_own_cell_names_its_row():
    """Where Sichuan's 指标性质 column prints the indicator's nature (定性) and the figures'
    cells print their operators (`=100 (%)`), a photo read `100 (%)`, its = lost in both
    readings: with a row printing its own, a figure with none is named (a 150-dpi scan
    lost the = of two of three). A form whose operator column prints the operators is
    not changed by it."""
    from decimal import Decimal

    from extractor.models import FieldSource, Indicator, ProjectForm
    from extractor.pipeline import _contradicted_readings

    def form(parts):
        f = ProjectForm(project_name="x", indicators=[Indicator(level1="产出指标", level2="数量指标", name=f"n{i}", target="".join(p[1:]),
                                                                target_parts=p, weight=Decimal(5), score=Decimal(5)) for i, p in enumerate(parts)])
        f.provenance = {f"indicators[{i}].target": FieldSource(engine="ocr+rules", page=3, raw=p[1]) for i, p in enumerate(parts)}
        return f

    nature = [["定性", "≥200 (学时)", ""], ["定性", "100 (%)", ""], ["定性", "≥85 (%)", ""], ["定性", "提升", ""]]
    assert [f.field for f in _contradicted_readings(form(nature), {3})] == ["indicators[1]"]
    assert [f.field for f in _contradicted_readings(form(nature[1:]), {3})] == ["indicators[0]"]  # (one row printing its own)
    assert _contradicted_readings(form(nature[1:2] + nature[3:]), {3}) == []  # (none: no usage to go by)
    column = [["≥", "200", "学时"], ["=", "100", "%"], ["≥", "85", "%"]]
    assert _contradicted_readings(form(column), {3}) == []
