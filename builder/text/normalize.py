"""Unicode normalisation for Chinese text.

NFKC folds what we want folded (Kangxi radicals ⽤→用, compatibility ideographs, full-width Latin
letters and digits, ligatures, odd spaces) but it would also turn Chinese full-width punctuation
（，！？：；） into ASCII. So we apply NFKC only to the code-point ranges where it helps, through a
translation table, and keep the punctuation a Chinese reader expects.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# full-width punctuation that belongs in Chinese text and must survive normalisation
KEEP = set("，！？；：（）～＂＇")

# CJK Radicals Supplement forms that NFKC leaves alone but bad PDF text layers use for ordinary characters
RADICAL_SUPPLEMENT = {
    "⺁": "厂", "⺇": "几", "⺌": "小", "⺎": "兀", "⺏": "尣", "⺐": "尢", "⺒": "巳", "⺓": "幺", "⺛": "旡", "⺞": "歺",
    "⺟": "母", "⺠": "民", "⺡": "氵", "⺢": "氺", "⺣": "灬", "⺤": "爫", "⺦": "丬", "⺨": "犭", "⺫": "罒", "⺬": "示",
    "⺭": "礻", "⺱": "冈", "⺲": "罒", "⺸": "羊", "⺹": "耂", "⺺": "肀", "⺾": "艹", "⻀": "虎", "⻁": "虎", "⻂": "衤",
    "⻃": "覀", "⻄": "西", "⻅": "见", "⻆": "角", "⻇": "角", "⻈": "讠", "⻉": "贝", "⻋": "车", "⻌": "辶", "⻍": "辶",
    "⻎": "辶", "⻏": "阝", "⻐": "钅", "⻓": "长", "⻔": "门", "⻖": "阝", "⻗": "雨", "⻘": "青", "⻙": "韦", "⻚": "页",
    "⻛": "风", "⻜": "飞", "⻝": "食", "⻟": "食", "⻠": "饣", "⻢": "马", "⻣": "骨", "⻤": "鬼", "⻥": "鱼", "⻦": "鸟",
    "⻧": "卤", "⻨": "麦", "⻩": "黄", "⻪": "黾", "⻫": "齐", "⻬": "齐", "⻮": "齿", "⻯": "竜", "⻰": "龙", "⻱": "龟",
    "⻲": "亀", "⻳": "龟",
}

# vertical presentation forms: NFKC would make them ASCII, a Chinese text wants the full-width mark
VERTICAL_FORMS = {
    "︐": "，", "︑": "、", "︒": "。", "︓": "：", "︔": "；", "︕": "！", "︖": "？", "︗": "〖", "︘": "〗", "︙": "…",
    "︰": "‥", "︱": "—", "︵": "（", "︶": "）", "︷": "｛", "︸": "｝", "︹": "〔", "︺": "〕", "︻": "【", "︼": "】",
    "︽": "《", "︾": "》", "︿": "〈", "﹀": "〉", "﹁": "「", "﹂": "」", "﹃": "『", "﹄": "』", "﹇": "［", "﹈": "］",
}

_RANGES = [(0x00A0, 0x00A0), (0x2000, 0x200A), (0x2E80, 0x2FDF), (0x3000, 0x3000), (0xF900, 0xFAFF),
           (0xFB00, 0xFB4F), (0xFE10, 0xFE1F), (0xFE30, 0xFE4F), (0xFF01, 0xFFEF)]

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff\ufff9-\ufffb]")  # U+FFFD is kept: the cleaner counts it as garbled
SPACES = re.compile(r"[ \t\u3000]+")
BLANK_LINES = re.compile(r"\n{3,}")
_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff，。！？；：、“”‘’（）《》〈〉「」『』【】〔〕…—"
# a straight quote between Chinese counts as Chinese on its side of the gap (。" 茉莉还代表…, 她说 "这…: a page that
# sets its quotes half-width; blind round 46 found the space kept in a punctuation exercise's answer)
CJK_GAP = re.compile(f"(?<=[{_CJK_CLASS}]) +(?=[{_CJK_CLASS}])|(?<=[{_CJK_CLASS}]\") +(?=[{_CJK_CLASS}])"
                     f"|(?<=[{_CJK_CLASS}]) +(?=\"[{_CJK_CLASS}])")
# a space between Chinese characters is dropped (中 国, 本报讯 为配合) except inside a list of three or more
# short words of 2-4 Han characters, the way names are set (杨启光 陈光磊 陈学超); titles keep all their
# spaces (clauses of a headline), see normalize(keep_cjk_spaces=True)
_H = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NAME_LIST = re.compile(f"(?<![{_H}])[{_H}]{{2,4}}(?: [{_H}]{{2,4}}){{2,}}(?![{_H}])")


def _drop_cjk_gaps(text: str) -> str:
    keep = {m.start() + k for m in _NAME_LIST.finditer(text) for k, c in enumerate(m.group(0)) if c == " "}
    if not keep:
        return CJK_GAP.sub("", text)
    return CJK_GAP.sub(lambda m: " " if m.start() in keep else "", text)


_LATIN_EXT = re.compile("[\u0080-\u02ff]")


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for lo, hi in _RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if ch in KEEP:
                continue
            folded = unicodedata.normalize("NFKC", ch)
            if folded != ch:
                table[cp] = folded
    for k, v in {**RADICAL_SUPPLEMENT, **VERTICAL_FORMS}.items():
        table[ord(k)] = v
    return table


@lru_cache(maxsize=1)
def _foldable() -> re.Pattern:
    return re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_table())) + "]")


def fold(text: str) -> str:
    """Map radicals, compatibility ideographs and full-width Latin to ordinary characters. Most Chinese texts have
    none of them (the punctuation they use is kept): one regex search, 20 times faster than translating."""
    return text.translate(_table()) if _foldable().search(text) else text


def fix_mojibake(text: str) -> str:
    import ftfy

    # mojibake of Chinese shows up as Latin-1/Latin-Extended letters; skip ftfy's scan without them
    if _LATIN_EXT.search(text) and ftfy.badness.is_bad(text):
        return ftfy.fix_encoding(text)
    return text


def tidy_whitespace(text: str, keep_cjk_spaces: bool = False) -> str:
    """Strip control characters, collapse runs of spaces, drop spaces between Chinese characters
    (kept in headlines, where a space separates two clauses: 多地项目连环爆雷 狂奔的龙湖集团)."""
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    if not keep_cjk_spaces:
        text = _drop_cjk_gaps(text) if " " in text else text
    return BLANK_LINES.sub("\n\n", text).strip()


def normalize(text: str, keep_cjk_spaces: bool = False) -> str:
    return tidy_whitespace(fold(fix_mojibake(text)), keep_cjk_spaces)


_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF))  # the CJK Unified Ideographs, Extension A, compatibility ideographs and planes 2-3


def han_count(text: str) -> int:
    """How many characters of ``text`` are Han (``_HAN_RANGES``), counted over its code points in numpy: six times
    faster than a regex findall on an article."""
    import numpy as np

    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    han = np.zeros(len(cp), bool)
    for lo, hi in _HAN_RANGES:
        han |= (cp >= lo) & (cp <= hi)
    return int(np.count_nonzero(han))


def cjk_ratio(text: str) -> float:
    """Share of Han characters among non-whitespace characters."""
    nonspace = len(text) - sum(text.count(c) for c in " \n\t")
    return han_count(text) / nonspace if nonspace else 0.0


# text folded for comparison (dedup, near-duplicate instructions): no punctuation or spaces, half-width, lower case
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def compare_form(text: str) -> str:
    """The form used to compare texts: folded width, lower case, punctuation and whitespace dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _PUNCT.sub("", text)
