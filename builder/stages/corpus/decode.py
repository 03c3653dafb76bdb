"""Bytes to text: BOM, UTF-8, UTF-16, GB18030 (a superset of GBK/GB2312), then detection."""

from __future__ import annotations

import codecs
import re

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
]


class DecodeError(ValueError):
    """The bytes are not text in any encoding we accept."""


def _looks_utf16(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    # ASCII-heavy UTF-16 has a zero in every other byte; CJK-heavy UTF-16 rarely has zero bytes at all
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _control_share(text: str) -> float:
    head = text[:5000]
    return len(_CONTROL.findall(head)) / len(head) if head else 0.0


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Return (text, encoding used) or raise DecodeError with the reason."""
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise DecodeError(f"cannot decode as {encoding}: {exc}") from None
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise DecodeError(f"{name} BOM but invalid {name}: {exc.reason} at byte {exc.start}") from None
    guess16 = _looks_utf16(data)
    if guess16:
        try:
            return data.decode(guess16), guess16
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:8192]:
        raise DecodeError("binary content (NUL bytes), not text")
    candidates = ["utf-8", "gb18030"]
    for name in candidates:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if _control_share(text) < 0.01:
            return text, name
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        text = data.decode(best.encoding, errors="replace")
        if _control_share(text) < 0.01 and text.count("\ufffd") / max(len(text), 1) < 0.01:
            return text, best.encoding
    raise DecodeError("not text: no encoding (UTF-8, UTF-16, GB18030 or detected) decodes it cleanly")
