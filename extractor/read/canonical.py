"""One canonical text, whatever read it.

Every reader's text — a PDF's text layer, OCR, a workbook's cells, a Word file's, a
text export — is Unicode NFKC-normalised as it leaves the reader: a Kangxi radical a
browser's PDF printer put for a CJK character (`⼯` U+2F2F for 工; a radical of the
supplement, which NFKC leaves alone, by Unicode's table: `⻅` U+2EC5 for 见), a CJK
compatibility ideograph, full-width digits, letters and brackets all become the one
character they stand for, so that names join, searches find and values compare
across routes. Characters whose compatibility form would lose what they say are kept:
enclosed numbers (`①`, `㈠`: list markers, not the digit) and superscripts (`m²`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator

from ..layout.page import PageText, Row

# The CJK Radicals Supplement (U+2E80–U+2EFF) has no compatibility decomposition, so
# NFKC leaves a browser's `⻅` for 见 as it is: each radical and the unified ideograph
# Unicode's EquivalentUnifiedIdeograph.txt (UCD 15.0) gives it, pair by pair.
_RADICALS = (
    "⺁厂⺂乛⺃乚⺄乙⺅亻⺆冂⺇𠘨⺈刀⺉刂⺊卜⺋㔾⺌小⺍小⺎兀⺏尣⺐尢⺑𡯂⺒巳⺓幺⺔彑⺕𫜹⺖忄⺗心⺘扌⺙攵⺛旡⺜日⺝月⺞歺⺟母"
    "⺠民⺡氵⺢氺⺣灬⺤爫⺥爫⺦丬⺧牛⺨犭⺩王⺪𤴔⺫目⺬示⺭礻⺮𥫗⺯糹⺰纟⺱罓⺲罒⺳㓁⺴冗⺵𦉫⺶羊⺷𦍌⺸𦍋⺹耂⺺肀⺻聿⺼肉⺽𦥑"
    "⺾艹⺿艹⻀艹⻁虎⻂衤⻃覀⻄西⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻍辶⻎辶⻏邑⻐钅⻑長⻒镸⻓长⻔门⻕𨸏⻖阝⻗雨⻘青⻙韦⻚页⻛风"
    "⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻭歯⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟"
)
_SUPPLEMENT = str.maketrans({_RADICALS[i]: _RADICALS[i + 1] for i in range(0, len(_RADICALS), 2)})


# Kept as printed: NFKC would turn them into plain digits or letters.
_KEPT = re.compile("([\u00b2\u00b3\u00b9\u2070-\u209f\u2460-\u24ff\u3200-\u33ff]+)")


_IN_SUPPLEMENT = re.compile("[\u2e80-\u2eff]")


def canonical(text: str) -> str:
    if text.isascii():
        return text
    if _IN_SUPPLEMENT.search(text):
        text = text.translate(_SUPPLEMENT)
    if unicodedata.is_normalized("NFKC", text):
        return text
    if _KEPT.search(text) is None:
        return unicodedata.normalize("NFKC", text)
    return "".join(part if i % 2 else unicodedata.normalize("NFKC", part) for i, part in enumerate(_KEPT.split(text)))


class Canon:
    """A document's text made canonical, and what that changed (for its notes)."""

    def __init__(self) -> None:
        self.changed: Counter[str] = Counter()  # "⼯→工": how often

    def text(self, text: str) -> str:
        out = canonical(text)
        if out != text:
            self._count(text, out)
        return out

    def _count(self, before: str, after: str) -> None:
        # Only the look-alikes are noted: found by a regex rather than canonicalising
        # every character (a line of prose has full-width commas NFKC changes)
        for ch in _LOOK_ALIKES.findall(before):
            to = canonical(ch)
            if to != ch:
                self.changed[f"{ch}→{to}"] += 1

    def rows(self, rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            if row.prose:  # (never read into a form: see Row.prose)
                yield row
                continue
            for cell in row.cells:
                if cell.text and not cell.text.isascii():
                    cell.text = self.text(cell.text)
            yield row

    def page(self, page: PageText) -> PageText:
        """The page's rows made canonical (its words have done their work: the rows are
        what every later stage reads)."""
        if page.streamed:
            page.rows = self.rows(page.rows)  # type: ignore[assignment]
        else:
            for _ in self.rows(page.rows):
                pass
        return page

    def note(self) -> str | None:
        """What a document's notes say of it, once: the look-alikes that were mapped
        (compatibility characters a PDF printer or an editor put in), by count."""
        look_alikes = self.changed  # (only look-alikes are counted: _count)
        if not look_alikes:
            return None
        shown = ", ".join(f"{k} ×{n}" for k, n in sorted(look_alikes.items(), key=lambda kv: -kv[1])[:8])
        return f"text normalised to one form (Unicode NFKC): {sum(look_alikes.values())} look-alike characters ({shown})"


# Characters that look like another and compare different: Kangxi and CJK radicals, CJK
# compatibility ideographs (full-width punctuation and digits are the ordinary way Chinese
# text prints and are not worth a note).
_LOOK_ALIKES = re.compile("[\u2e80-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")
