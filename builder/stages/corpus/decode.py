"""Bytes to text that fails loudly: BOM, UTF-8, UTF-16 (with or without BOM), then GB18030 or Big5 by
evidence, not by assumption.

- Big5 bytes decode as GB18030 without an error, into wrong Han characters (記者從市政府獲悉 → 癘眖カ現┎莉眡).
  So GB18030 and Big5 are both tried and scored by the share of *common* Han characters (GB2312 level 1 and
  Big5 level 1, about 7,000 characters that make up nearly all running text); the better one wins, and a
  text that is common in neither is refused rather than guessed.
- UTF-16 without a BOM: ASCII-heavy text has a zero in every other byte; CJK-heavy text has none, so both
  byte orders are scored the same way.
- Stray NUL bytes in otherwise good text are removed and counted; many NULs still mean binary.
- U+FFFD from damaged bytes is kept and counted (the garbled check sees it), never dropped silently.
- A SogouCA dump whose private-use paragraph mark (U+E40C, GBK ``FD A3``) lost its lead byte to ``?``
  gets the mark back, so the rest of the record is not decoded one byte out of step.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
]
SAMPLE = 64 * 1024  # bytes scored per candidate encoding
MIN_COMMON = 0.6  # share of common Han characters a non-UTF-8 decoding needs to be believed
MAX_NUL_SHARE = 0.002  # more NUL bytes than this (and not UTF-16) is binary
MAX_UTF8_DAMAGE = 0.002  # UTF-8 with at most this share of invalid sequences is UTF-8 with damage, kept and counted


class DecodeError(ValueError):
    """The bytes are not text in any encoding we accept."""


@dataclass
class Decoded:
    text: str
    encoding: str
    nul_removed: int = 0
    replacement_chars: int = 0
    repaired_marks: int = 0
    overruled: int = 0  # a charset declaration (latin-1 on Chinese bytes) was not believed

    def counts(self) -> dict[str, int]:
        out = {"decode_nul_removed": self.nul_removed, "decode_replacement_chars": self.replacement_chars,
               "decode_repaired_paragraph_marks": self.repaired_marks, "decode_overruled_declaration": self.overruled}
        return {k: v for k, v in out.items() if v}


@lru_cache(maxsize=1)
def common_han() -> frozenset[str]:
    """GB2312 level 1 (3,755 most used simplified) and Big5 level 1 (5,401 most used traditional) characters."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):
        for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            try:
                chars.add(bytes([lead, trail]).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def common_share(text: str) -> float | None:
    """Share of Han characters that are common ones; None when the text has too few Han characters to judge."""
    han = _HAN.findall(text)
    if len(han) < 8:
        return None
    common = common_han()
    return sum(1 for c in han if c in common) / len(han)


def _looks_utf16(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    # ASCII-heavy UTF-16 has a zero in every other byte
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _control_share(text: str) -> float:
    head = text[:5000]
    return len(_CONTROL.findall(head)) / len(head) if head else 0.0


def _sample(data: bytes, name: str) -> str | None:
    """The first SAMPLE bytes decoded strictly (a cut multi-byte character at the end is allowed)."""
    try:
        return codecs.getincrementaldecoder(name)().decode(data[:SAMPLE], final=len(data) <= SAMPLE)
    except UnicodeDecodeError:
        return None


# GB18030 read one character at a time, so a "?" is seen at the position where it stands: a run of characters
# without a "?" is one match (a four-byte, a two-byte, an ASCII character other than "?", a lone byte not before
# "?"), then the "?" cases; the same cut as matching unit by unit, with one call per run instead of per character
_GB_UNITS = re.compile(rb"(?:[\x81-\xfe][\x30-\x39][\x81-\xfe][\x30-\x39]|[\x81-\xfe][\x40-\x7e\x80-\xfe]|[\x00-\x3e\x40-\x80]"
                       rb"|[\x81-\xfe](?!\?)|\xff)+|(?P<mark>\?\xa3)|(?P<lost>[\x81-\xfe]\?)|\?", re.S)


def repair_question_marks(data: bytes) -> tuple[bytes, int, int]:
    """GBK bytes where a tool replaced high bytes by '?': '?' + A3 at a character start is the SogouCA
    paragraph mark U+E40C (FD A3); a lead byte + '?' is a lost character (SUB, shown as U+FFFD later)."""
    marks = lost = 0

    def fix(m: re.Match) -> bytes:
        nonlocal marks, lost
        if m.group("mark"):
            marks += 1
            return b"\xfd\xa3"
        if m.group("lost"):
            lost += 1
            return b"\x1a"
        return m.group(0)

    return _GB_UNITS.sub(fix, data), marks, lost


def _finish(text: str, name: str, nul: int = 0, marks: int = 0) -> Decoded:
    if "\x1a" in text:
        text = text.replace("\x1a", "\ufffd")
    return Decoded(text, name, nul_removed=nul, replacement_chars=text.count("\ufffd"), repaired_marks=marks)


def decode_detail(data: bytes, encoding: str = "auto") -> Decoded:
    """Decode with the evidence: see the module docstring. Raises DecodeError with the reason."""
    if encoding != "auto":
        try:
            return _finish(data.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DecodeError(f"cannot decode as {encoding}: {exc}") from None
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return _finish(data.decode(name), name)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"{name} BOM but invalid {name}: {exc.reason} at byte {exc.start}") from None
    guess16 = _looks_utf16(data)
    if guess16:
        try:
            return _finish(data.decode(guess16), guess16)
        except UnicodeDecodeError:
            pass
    nul = data.count(b"\x00")
    if nul and len(data) % 2 == 0:  # CJK-heavy UTF-16 without a BOM: zeros only in its ASCII (newlines, digits)
        for name in ("utf-16-le", "utf-16-be"):
            sample = _sample(data, name)
            if sample is not None and _control_share(sample) < 0.01 and (common_share(sample) or 0) >= MIN_COMMON:
                try:
                    return _finish(data.decode(name), name)
                except UnicodeDecodeError:
                    pass
    if nul:
        if nul / max(len(data), 1) > MAX_NUL_SHARE:
            raise DecodeError(f"binary content ({nul} NUL bytes), not text")
        data = data.replace(b"\x00", b"")
    try:
        text = data.decode("utf-8")
        if _control_share(text) < 0.01:
            return _finish(text, "utf-8", nul)
    except UnicodeDecodeError:
        sample = data[:SAMPLE].decode("utf-8", errors="replace")
        if sample.count("\ufffd") <= max(3, len(sample) * MAX_UTF8_DAMAGE):
            text = data.decode("utf-8", errors="replace")
            if text.count("\ufffd") <= max(3, len(text) * MAX_UTF8_DAMAGE) and _control_share(text) < 0.01:
                return _finish(text, "utf-8", nul)
    # not UTF-8: score every candidate on a sample by its share of common Han characters
    scored: list[tuple[float, str]] = []
    candidates = ["gb18030", "big5hkscs"]
    if len(data) % 2 == 0 and not nul:
        candidates += ["utf-16-le", "utf-16-be"]
    for name in candidates:
        sample = _sample(data, name)
        if sample is None or _control_share(sample) >= 0.01:
            continue
        share = common_share(sample)
        if share is not None:
            scored.append((share, name))
    scored.sort(reverse=True)
    if scored and scored[0][0] >= MIN_COMMON:
        name = scored[0][1]
        marks = 0
        if name == "gb18030" and data.count(b"?\xa3") >= 5:
            fixed, marks, _ = repair_question_marks(data)
            if (common_share(_sample(fixed, name) or "") or 0) >= scored[0][0]:
                data = fixed
            else:
                marks = 0
        try:
            return _finish(data.decode(name), name, nul, marks)
        except UnicodeDecodeError:
            return _finish(data.decode(name, errors="replace"), name, nul, marks)
    # few Han characters (or none common): plain GB18030 if it decodes cleanly, else detection
    try:
        text = data.decode("gb18030")
        if _control_share(text) < 0.01 and not scored:
            return _finish(text, "gb18030", nul)
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        text = data.decode(best.encoding, errors="replace")
        share = common_share(text[:20000])
        if _control_share(text) < 0.01 and text.count("\ufffd") / max(len(text), 1) < 0.01 and (share is None or share >= MIN_COMMON):
            return _finish(text, best.encoding, nul)
    tried = ", ".join(f"{n} {s:.0%}" for s, n in scored) or "none had enough Han characters to judge"
    raise DecodeError(f"binary or unknown encoding: not UTF-8; common-character share by candidate: {tried}")


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Return (text, encoding used) or raise DecodeError with the reason."""
    d = decode_detail(data, encoding)
    return d.text, d.encoding


GB_ALIASES = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "gb2312-80", "csgb2312"}  # all read as their superset GB18030


def declared_codec(name: str | None) -> str | None:
    """The Python codec for a charset a page, feed or header declares (GB2312/GBK as GB18030); None when unknown."""
    if not name:
        return None
    name = name.strip().strip("'\"").lower()
    if name in GB_ALIASES:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


LATIN_DECLARED = {"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "us-ascii", "ascii", "iso8859-1"}


def distrust_latin(data: bytes, declared: str) -> Decoded | None:
    """A page declared latin-1/windows-1252 whose bytes read as GBK/UTF-8 Chinese: the declaration is wrong.
    Returns the better decoding, or None to keep the declared one."""
    if declared.lower() not in LATIN_DECLARED or not re.search(rb"[\x80-\xff]", data[:SAMPLE]):
        return None
    try:
        d = decode_detail(data)
    except DecodeError:
        return None
    share = common_share(d.text[:20000])
    return d if share is not None and share >= MIN_COMMON else None
