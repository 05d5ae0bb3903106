"""The page model shared by every reader.

Every reader — PDF text layer, OCR, text exports — ends in the same thing: a
document as a sequence of `Row`s in reading order, each a list of `Cell`s in
column order. A table row keeps an empty cell where a merged cell from above
continues, so a row from a PDF grid looks like a row of a text export. Words
(text + box) are the only input the PDF grid needs, so OCR words can replace
the text layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .grid import Table

BBox = tuple[float, float, float, float]


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 3–4× slower, and a page has hundreds
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    confidence: float = 1.0
    # Centres, computed once: the grid asks for them hundreds of thousands of times.
    cx: float = field(init=False, repr=False, compare=False)
    cy: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.cx = (self.x0 + self.x1) / 2
        self.cy = (self.y0 + self.y1) / 2


@dataclass(frozen=True, slots=True)
class Doubt:
    """Why a cell's text may not be the whole of what it prints, and nothing else."""

    why: str  # completes "<field> …"
    why_zh: str  # completes "<字段>…"


# One cell cut in two by the paper's edge: its text is in two parts, on two pages.
CUT_BY_EDGE = Doubt("was printed in a cell the paper's edge cut in two (the sheet is wider than the page); its text is incomplete",
                    "所在单元格被纸张边缘截断（表格宽于纸张），其文字不完整")
# A cell too small for its text, printed clipped (a spreadsheet row of fixed height):
# the program wrote the whole text, and a clip path shows only what is inside the cell.
CLIPPED = Doubt("was printed in a cell too small for its text: the page shows only the part inside the cell, "
                "the rest is cut off; its text is incomplete",
                "所在单元格容不下其文字，页面只显示单元格内的部分，其余被裁去，其文字不完整")
# Ink in the cell that the recogniser read with next to no confidence, and that was left
# out: a short figure or mark (a lone `1`, `=`) reads so at 150 dpi.
INK_NOT_READ = Doubt("holds ink the OCR could not read (a short figure or mark such as 1 or = reads so, and was left "
                     "out): its text may lack part or all of what it prints",
                     "内有 OCR 无法识别的笔迹（如单独的 1、= 等短小字符），已被略去：其文字可能缺少部分或全部内容")
# A seal over the cell in a grey scan, its ink as dark as the print's thin strokes: it was
# whitened but for the print's dark cores, so a thin stroke (a bracket, 、, a dot) may be gone.
UNDER_SEAL = Doubt("was read from under a seal whose ink, as dark as the print's thin strokes in a grey scan, was "
                   "whitened: strokes of its text (brackets, dots, thin marks) may be lost with it",
                   "位于印章下（灰度扫描中印章与细笔画深浅相同，印章已被去除），其文字的细笔画（括号、点等）可能随之丢失")
# A converter wrote a line of this cell beside a line of a neighbouring row's (camelot:
# `"性 结\n结对帮扶工作开展规范"`): characters of the rows may have changed places.
INTERLEAVED = Doubt("was read from a cell whose lines the converter interleaved with a neighbouring row's "
                    "(one line holds two rows' text side by side); its text may have lost characters to that row or taken its",
                    "所在单元格的文字与相邻行交错（转换工具把两行的文字并排写在同一行），可能缺字或混入相邻行的文字")

INTERLEAVED_ACROSS = Doubt("was read from a cell holding a line of the wrapped cell beside it (the converter wrote "
                           "the two cells' lines as one); its text may hold that cell's characters",
                           "所在单元格混入了旁边换行单元格的一行文字（转换工具把两格的文字写成一行），可能含有旁边单元格的文字")
# A label and its value in one cell (camelot: `评价结论\n优`, the value's cell spanning
# columns the converter did not split): the value is what follows the label.
WITH_ITS_LABEL = Doubt("was read from its label's cell (the converter wrote the label and the value as one cell): "
                       "the value is what follows the label there",
                       "系从其标签所在单元格读出（转换工具把标签和数值写成了一个单元格）")
BESIDE_INTERLEAVED = Doubt("was read beside a cell whose lines the converter interleaved with this row's "
                           "(one line holds two rows' text side by side); its text may have lost characters to that row or taken its",
                           "所在单元格与相邻行的文字交错（转换工具把两行的文字并排写在同一行），可能缺字或混入相邻行的文字")


@dataclass(slots=True)
class Cell:
    text: str
    bbox: BBox | None = None
    col: int | None = None
    # An empty merged cell cut by the page bottom: its label is on the next page.
    cut_below: bool = False
    confidence: float = 1.0
    text_bbox: BBox | None = None  # where the words sit (a merged cell's text keeps its column)
    ref: str | None = None  # a workbook cell's reference ("自评表!F12")
    doubt: Doubt | None = None  # why its text may not be all its own, and all of it (a value read from it is an error)


def doubt_cells(rows: list[Row], doubt: Doubt, hit: Callable[[BBox], bool], empty: bool = False) -> None:
    """Doubt each cell with text (and with `empty`, each cell read as nothing: what a
    seal's whitening may have taken all of) and a box that `hit` says is in a region
    whose reading is doubtful (a clip that cut it, a seal whitened over it), unless it
    is doubted already."""
    for row in rows:
        for cell in row.cells:
            if (cell.text or empty) and cell.bbox and cell.doubt is None and hit(cell.bbox):
                cell.doubt = doubt


@dataclass(slots=True)
class Row:
    cells: list[Cell]
    page: int  # 1-based
    in_table: bool = True
    line: int | None = None  # source line for text exports
    page_break_before: bool = False  # first row after a page (or blank-line) break
    order: int = -1  # the row's place in its document (set as the rows stream past)
    # A text export's long run of prose lines in one row (text_export.Prose): how many
    # lines it holds (0: not such a row). Kept as printed, seen by the title watch, and
    # neither canonicalised nor read into a form
    prose: int = 0

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells]

    @property
    def filled(self) -> list[Cell]:
        return [c for c in self.cells if c.text]

    @property
    def joined(self) -> str:
        return "".join(c.text for c in self.cells)

    @property
    def bbox(self) -> BBox | None:
        boxes = [c.bbox for c in self.cells if c.bbox]
        if not boxes:
            return None
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )


@dataclass(slots=True)
class PageText:
    """One page: its words (text layer or OCR) and the rows rebuilt from them."""

    number: int
    width: float
    height: float
    words: list[Word] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # the grids the rows came from (for drawing)
    joined_pages: list[int] = field(default_factory=list)  # pages whose columns continue this page's table
    streamed: bool = False  # `rows` is an iterator, read once (a text export's one pseudo-page)

    @property
    def text(self) -> str:
        return "\n".join("\t".join(c.text for c in r.cells if c.text) for r in self.rows)
