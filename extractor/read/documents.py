"""Opening inputs: sniff what a file is from its bytes, enforce limits, and hand
back rows page by page. Every failure is an `InputError` with a one-line reason."""

from __future__ import annotations

import codecs
import hashlib
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from ..errors import CorruptFile, EmptyFile, EncryptedFile, InputError, NoTextLayer, TooLarge, UnsupportedFile, translate
from ..forms.templates import VOCAB
from ..layout.across import bands_joined
from .canonical import Canon
from ..layout.page import PageText, Row
from .. import workers
from .pdf import MIN_CHARS_FOR_TEXT_LAYER, NO_TEXT, content_past, draws_outlined_text, hidden_chars, page_words, read_page, text_layer_problem
from .scan import ocr_read_page
from .office import convert
from .spreadsheet import XLS_SUFFIXES, XLSX_SUFFIXES, Workbook
from .word import DOCX_SUFFIXES, WordDocument
from .text_export import export_lines, export_rows

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".tsv", ".csv"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
# What a folder given as input is searched for (a file given by name is sniffed whatever its suffix).
LEGACY_WORD_SUFFIXES = frozenset({".doc", ".wps", ".dot"})  # read through LibreOffice
LEGACY_SHEET_SUFFIXES = XLS_SUFFIXES | frozenset({".et"})
INPUT_SUFFIXES = (frozenset({".pdf"}) | IMAGE_SUFFIXES | TEXT_SUFFIXES | XLSX_SUFFIXES | LEGACY_SHEET_SUFFIXES
                  | DOCX_SUFFIXES | LEGACY_WORD_SUFFIXES | frozenset({".ofd"}))
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xlsx, and the old .xls
IMAGE_MAGIC = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpeg", b"II*\x00": "tiff", b"MM\x00*": "tiff"}


@dataclass(frozen=True)
class Limits:
    max_pages: int = 1000
    max_bytes: int = 512 * 1024 * 1024
    max_page_content: int = 64 << 20  # a page's decoded drawing operators (the real forms': under 30 KB)
    page_seconds: float | None = 60.0  # a batch's time budget per page (None: no limit)
    max_memory: int | None = 4 << 30  # a batch worker's memory budget in bytes (None: no limit)


def quiet_mupdf() -> None:
    """Keep MuPDF's messages instead of printing them. MuPDF prints every error it
    recovers from to stdout — a damaged PDF gives a line per broken object, dozens a
    page — and the tool reports a file's trouble in one line of its own
    (`OpenedDocument.damage`). For programs that own their output: the CLI and its
    batch workers."""
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # little, big endian
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), *((bom, "utf-16") for bom in _UTF16_BOMS))
TEXT_ENCODINGS = "UTF-8, UTF-16 (with its BOM) or GB18030/GBK"


def _decodes(data: bytes, encoding: str, cut: bool) -> bool:
    """Does `data` decode, allowing for a character cut at its end when `cut`?"""
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError as exc:
        return cut and exc.start >= len(data) - 4


def utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for text saved as UTF-16 with no byte-order mark:
    its zero bytes (the high byte of every ASCII character: tabs, digits, newlines)
    stand nearly all at odd offsets (little endian) or at even ones (a few CJK
    characters, 一 U+4E00, have a zero low byte), and it decodes to printable text.
    None for anything else (a binary file has zeros everywhere)."""
    sample = data[: len(data) - len(data) % 2][:4096]
    zeros_even = sum(1 for i in range(0, len(sample), 2) if sample[i] == 0)
    zeros_odd = sum(1 for i in range(1, len(sample), 2) if sample[i] == 0)
    if zeros_even + zeros_odd < 4 or min(zeros_even, zeros_odd) > 0.1 * max(zeros_even, zeros_odd):
        return None
    encoding = "utf-16-le" if zeros_odd > zeros_even else "utf-16-be"
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n")
    return encoding if printable >= 0.95 * len(text) else None


def text_encoding(data: bytes, whole: bool = True) -> str:
    """The encoding of a text export's bytes (`whole`: all of them, else its first
    megabytes): by its BOM, else UTF-8, else GB18030 (the superset of GBK and GB2312
    that Chinese Windows saves in). A UTF-8 file with a stray bad byte stays UTF-8
    (the byte replaced): GB18030 would read any UTF-8 as other characters."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if b"\x00" in data[:4096] and (bomless := utf16_without_bom(data)):
        return bomless
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    # GBK read as UTF-8 loses nearly every Chinese character; a stray byte loses one.
    if bad >= max(3, 0.01 * len(text)) and _decodes(data, "gb18030", cut=not whole):
        return "gb18030"
    return "utf-8"


TEXT_SAMPLE = 4 << 20  # what a text export's encoding is told from
TEXT_PIECE = 1 << 20  # what is read of it at a time


def text_pieces(path: Path, encoding: str) -> Iterator[str]:
    """A text export decoded a megabyte at a time (a character cut between two reads
    is decoded whole)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(path, "rb") as fh:
        while data := fh.read(TEXT_PIECE):
            yield decoder.decode(data)
    yield decoder.decode(b"", final=True)


def sniff(path: Path) -> str:
    """'pdf', 'image', 'sheet' or 'text' — from the bytes (and, for a workbook's
    zip or OLE container, the name)."""
    with open(path, "rb") as fh:
        head = fh.read(2048)
    if not head.strip():
        raise EmptyFile("the file is empty", zh="文件是空的")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    for magic in IMAGE_MAGIC:
        if head.startswith(magic):
            return "image"
    suffix = path.suffix.lower()
    if head.startswith(_ZIP) and (suffix == ".ofd" or b"OFD.xml" in head):
        raise UnsupportedFile("an OFD document (China's electronic document format): not read yet; "
                              "export it to PDF with the issuer's OFD reader",
                              zh="OFD 版式文件暂不能读取：请用 OFD 阅读器导出为 PDF")
    if (head.startswith(_ZIP) and suffix in XLSX_SUFFIXES) or (head.startswith(_OLE) and suffix in LEGACY_SHEET_SUFFIXES):
        return "sheet"
    if (head.startswith(_ZIP) and suffix in DOCX_SUFFIXES) or (head.startswith(_OLE) and suffix in LEGACY_WORD_SUFFIXES):
        return "word"
    utf16 = head.startswith(_UTF16_BOMS) or (b"\x00" in head and utf16_without_bom(head) is not None)
    if b"\x00" in head and not utf16:
        raise UnsupportedFile("not a PDF, image or text export (binary content)", zh="不是 PDF、图片或文本导出（二进制内容）")
    if not (utf16 or _decodes(head, "utf-8", cut=True) or _decodes(head, "gb18030", cut=True)):
        raise UnsupportedFile(f"not a PDF, image or text export in {TEXT_ENCODINGS}",
                              zh=f"不是 PDF、图片，也不是 {TEXT_ENCODINGS} 编码的文本导出")
    if path.suffix.lower() not in TEXT_SUFFIXES:
        suffixes = ', '.join(sorted(TEXT_SUFFIXES))
        raise UnsupportedFile(f"not a PDF or image, and '{path.suffix}' is not a text export suffix ({suffixes})",
                              zh=f"不是 PDF 或图片，且后缀 '{path.suffix}' 不是文本导出的后缀（{suffixes}）")
    return "text"


@dataclass
class OpenedDocument:
    path: Path
    kind: str  # pdf | image | text
    page_count: int
    doc_type: str  # born_digital | text_export | scanned
    _pdf: pymupdf.Document | None = None
    _encoding: str | None = None  # a text export's: read as its rows are
    _book: Workbook | WordDocument | None = None  # a workbook's sheets, or a Word document's pages
    ocr_pages: dict[int, list[str]] | None = None  # page → notes, for pages read by OCR
    _damage: list[str] = field(default_factory=list)  # MuPDF's messages read so far
    page_damage: dict[int, str] = field(default_factory=dict)  # page → what MuPDF said while reading it
    preread: dict[int, tuple[PageText, list[str]]] = field(default_factory=dict)  # page → OCR read elsewhere
    limits: Limits = field(default_factory=Limits)
    canon: Canon = field(default_factory=Canon)  # what making its text canonical changed
    prose_lines: int = 0  # a text export's lines read as narrative (text_export.Prose), not into forms

    def pages(self) -> Iterator[PageText]:
        """Pages one at a time, their text canonical (`canonical`); raises NoTextLayer
        at a page with no usable text."""
        for page in self._read_pages():
            yield self.canon.page(page)

    def _read_pages(self) -> Iterator[PageText]:
        if self._encoding is not None:  # (its rows streamed: a 200 MB export is never held whole)
            workers.step("reading the text")
            rows = export_rows(export_lines(text_pieces(self.path, self._encoding)), comma=self.path.suffix.lower() == ".csv")
            yield PageText(number=1, width=0, height=0, rows=self._counting_prose(rows), streamed=True)
            return
        if self._book is not None:
            workers.step("reading the workbook" if isinstance(self._book, Workbook) else "reading the document")
            yield from self._book.pages()
            return
        assert self._pdf is not None
        yield from bands_joined(self._pdf_pages(), VOCAB.project_anchor + VOCAB.department_anchor)

    def _pdf_pages(self) -> Iterator[PageText]:
        assert self._pdf is not None
        self.ocr_pages = {}
        for i in range(self._pdf.page_count):
            workers.step(f"page {i + 1}")
            page = self._pdf.load_page(i)
            if self._pdf.is_pdf and content_past(page, self.limits.max_page_content):
                raise TooLarge(f"page {i + 1}'s content decodes to more than {self.limits.max_page_content >> 20} MiB "
                               "of drawing operators (a decompression bomb)",
                               zh=f"第 {i + 1} 页的内容解压后超过 {self.limits.max_page_content >> 20} MiB 绘图指令（解压炸弹）")
            spans = page.get_texttrace()
            words = page_words(page, spans)
            problem = text_layer_problem(words)
            what = ocr_reason(page, problem, spans)
            if what is not None:
                from . import ocr

                if i + 1 in self.preread:  # read by OCR elsewhere (a Ray task of a page range)
                    text, notes = self.preread[i + 1]
                    notes = list(notes)
                elif not ocr.available():
                    raise NoTextLayer(f"page {i + 1} is {what}, and OCR is not installed (pip install '.[ocr]')",
                                      zh=f"第 {i + 1} 页需要 OCR（{what}），但未安装 OCR（pip install '.[ocr]'）")
                else:
                    text, notes = ocr_read_page(page)
                if not _looks_scanned(page):
                    notes.insert(0, f"page {i + 1}: the text layer is unusable ({problem}); the page was rendered and read by OCR")
                elif what == INVISIBLE_LAYER:
                    notes.insert(0, f"page {i + 1} is {what}: the page was read by OCR")
                self.ocr_pages[i + 1] = notes
                self.doc_type = "scanned"
            else:
                text = read_page(page, words, spans)
            said = self.damage(new_only=True)
            if said:
                self.page_damage[i + 1] = said
            yield text

    def _counting_prose(self, rows: Iterator[Row]) -> Iterator[Row]:
        for row in rows:
            self.prose_lines += row.prose
            yield row

    def notes(self) -> list[str]:
        """What reading it as a whole had to do (its text made canonical, a sheet's
        hidden rows skipped, a number format not understood, narrative not read into forms)."""
        canon = self.canon.note()
        prose = (f"{self.prose_lines} lines of narrative (long runs of lines with no cell, figure or form title in "
                 "them) kept out of the forms") if self.prose_lines else None
        return [n for n in (canon, prose) if n] + list(getattr(self._book, "notes", []))

    def ocr_page_numbers(self) -> list[int]:
        """The 1-based pages `pages()` will read by OCR (a text layer check: quick)."""
        if self._pdf is None:
            return []
        pages = (self._pdf.load_page(i) for i in range(self._pdf.page_count))
        return [p.number + 1 for p in pages if ocr_reason(p, text_layer_problem(page_words(p))) is not None]

    def render(self, number: int, dpi: int) -> bytes | None:
        """PNG of a 1-based page; None for text exports."""
        if self._pdf is None:
            return None
        return self._pdf.load_page(number - 1).get_pixmap(dpi=dpi).tobytes("png")

    def damage(self, new_only: bool = False) -> str | None:
        """What MuPDF complained of since this document was opened (it repairs what it
        can and reads on), as one line; None for a sound file. With `new_only`, only
        what it said since the last call (the pages read since). MuPDF keeps its
        messages per process: this reads them and empties the store."""
        if self._pdf is None:
            return None
        fresh = [m for m in pymupdf.TOOLS.mupdf_warnings(reset=True).splitlines() if m.strip()]
        self._damage += fresh
        messages = fresh if new_only else self._damage
        # Its warnings (a substituted font, say) are no damage; its errors are, and so is
        # data that ends early or does not decode (a cut or corrupt JPEG is only a warning).
        first = next((m for m in messages if _DAMAGE.search(m)), None)
        if first is None:
            return None
        first = first.removeprefix("format error: ")[:120]
        more = len(messages) - 1
        source = "" if first.startswith("libjpeg: ") else "MuPDF: "
        return (f"the {'PDF' if self._pdf.is_pdf else 'image'} is damaged ({source}{first}"
                + (f"; {more} more message{'s' if more > 1 else ''})" if more else ")"))

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
        if self._book is not None:
            self._book.close()


_DAMAGE = re.compile(r"error|premature end|corrupt|truncated|invalid|broken", re.I)


INVISIBLE_LAYER = "an image whose text layer is invisible (another program's OCR, not used)"


def ocr_reason(page: pymupdf.Page, problem: str | None, spans: list[dict] | None = None) -> str | None:
    """Why a page is read by OCR (its text layer's `problem`), or None when it is not.
    A page with a few words and nothing else is a cover or a blank, not a form to OCR.
    (`spans`: the page's text trace, when the caller has it.)"""
    if problem is None:
        return None
    if _looks_scanned(page):
        return INVISIBLE_LAYER if hidden_chars(page, spans) >= MIN_CHARS_FOR_TEXT_LAYER else "an image with no text layer"
    if problem != NO_TEXT or draws_outlined_text(page):
        return f"text whose text layer is unusable ({problem})"
    return None


def read_ocr_pages(path: Path, numbers: list[int]) -> dict[int, tuple[PageText, list[str]]]:
    """Pages of a document read by OCR, to hand to `OpenedDocument.preread` (a long
    scan read in page ranges at once, joined into one result)."""
    doc = pymupdf.open(path)
    try:
        return {n: ocr_read_page(doc.load_page(n - 1)) for n in numbers}
    finally:
        doc.close()


def _looks_scanned(page: pymupdf.Page) -> bool:
    """A page with an image covering most of it (a scan or photo)."""
    area = abs(page.rect)
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        if (x1 - x0) * (y1 - y0) > 0.5 * area:
            return True
    return False


def _open_workbook(path: Path, limits: Limits) -> OpenedDocument:
    if path.suffix.lower() in LEGACY_SHEET_SUFFIXES:
        with tempfile.TemporaryDirectory() as tmp:
            book = Workbook(convert(path, "xlsx", Path(tmp), f"a {path.suffix.lower()} workbook"))  # (read whole: the file can go)
    else:
        book = Workbook(path)
    _check_count(book.page_count, limits, book.close, empty="the workbook has no visible sheet", unit="sheets")
    return OpenedDocument(path, "sheet", book.page_count, "spreadsheet", _book=book)


def _open_word(path: Path, limits: Limits) -> OpenedDocument:
    if path.suffix.lower() in LEGACY_WORD_SUFFIXES:
        with tempfile.TemporaryDirectory() as tmp:
            doc = WordDocument(convert(path, "docx", Path(tmp), f"a {path.suffix.lower()} document"))  # (read whole)
    else:
        doc = WordDocument(path)
    _check_count(doc.page_count, limits, doc.close, empty="the document has no text", unit="pages")
    return OpenedDocument(path, "sheet", doc.page_count, "word", _book=doc)


def _check_count(n: int, limits: Limits, close: Callable[[], None], empty: str, unit: str) -> None:
    """Refuse a document with no pages (sheets) or more than --max-pages, closed first."""
    if n == 0:
        close()
        raise EmptyFile(empty)
    if n > limits.max_pages:
        close()
        raise TooLarge(f"{n} {unit} is over the {limits.max_pages}-page limit (--max-pages)",
                       zh=f"{n} 页，超过 {limits.max_pages} 页的上限（--max-pages）")


KIND_OF_PATH_ZH = {"a folder": "文件夹", "a FIFO": "命名管道", "a socket": "套接字", "a device": "设备"}


def _not_a_file(path: Path) -> InputError:
    """Why a path that is no regular file cannot be read: it is missing, a link loop, a
    folder, a FIFO (whose reading would wait for a writer for ever) or a device."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return translate(exc)
    kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return UnsupportedFile(f"not a regular file ({kind})", zh=f"不是普通文件（{KIND_OF_PATH_ZH[kind]}）")


def open_document(path: Path, limits: Limits = Limits()) -> OpenedDocument:
    if not path.is_file():
        raise _not_a_file(path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile("the file is empty", zh="文件是空的")
    if size > limits.max_bytes:
        raise TooLarge(f"{size / 2**20:.0f} MiB is over the {limits.max_bytes / 2**20:.0f} MiB limit (--max-bytes)",
                       zh=f"{size / 2**20:.0f} MiB，超过 {limits.max_bytes / 2**20:.0f} MiB 的上限（--max-bytes）")
    kind = sniff(path)
    if kind == "text":
        with open(path, "rb") as fh:
            sample = fh.read(TEXT_SAMPLE)
        return OpenedDocument(path, kind, 1, "text_export", _encoding=text_encoding(sample, whole=size <= TEXT_SAMPLE))
    if kind == "sheet":
        return _open_workbook(path, limits)
    if kind == "word":
        return _open_word(path, limits)
    pymupdf.TOOLS.reset_mupdf_warnings()  # what MuPDF says from here on is this document's
    try:
        doc = pymupdf.open(path)
    except Exception as exc:  # PyMuPDF raises its own FileDataError and others
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptFile(f"cannot be opened: {why}", zh=f"无法打开：{why}") from exc
    if doc.needs_pass:
        doc.close()
        raise EncryptedFile("the PDF is encrypted with a password", zh="PDF 设有密码加密")
    _check_count(doc.page_count, limits, doc.close, empty="the document has no pages", unit="pages")
    doc_type = "scanned" if kind == "image" else "born_digital"
    opened = OpenedDocument(path, kind, doc.page_count, doc_type, _pdf=doc, limits=limits)
    if kind == "image" and doc.page_count == 1 and _is_jpeg(path):
        from .jpeg import jpeg_damage

        said = jpeg_damage(path)
        if said:  # (data overwritten in the middle: MuPDF draws over it without a word)
            opened._damage.append(f"libjpeg: {said}")
            opened.page_damage[1] = f"the image is damaged (libjpeg: {said})"
    return opened


def _is_jpeg(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(3) == b"\xff\xd8\xff"
