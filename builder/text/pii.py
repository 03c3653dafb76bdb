"""PII in Chinese text: mainland mobile numbers, resident ID numbers, emails.

ID numbers are masked when they have the shape of one (region, a valid birth date, sequence, check
character) whether or not the check character is right: a mistyped ID is still personal data.
``mask`` replaces them and counts each kind; ``scan`` finds what is left (the export stage blocks a
push while any remain).
"""

from __future__ import annotations

import re

MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])")
EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")

MASKS = {"id_number": (ID_NUMBER, "[身份证号]"), "phone": (MOBILE, "[手机号]"), "email": (EMAIL, "[邮箱]")}


def mask(text: str) -> tuple[str, dict[str, int]]:
    """Replace PII with placeholders; ID numbers first so their digits are not read as phones."""
    counts: dict[str, int] = {}
    for kind, (pattern, placeholder) in MASKS.items():
        text, n = pattern.subn(placeholder, text)
        if n:
            counts[kind] = n
    return text, counts


def scan(text: str) -> dict[str, list[str]]:
    """PII still present in a text, by kind."""
    found = {kind: pattern.findall(text) for kind, (pattern, _) in MASKS.items()}
    return {k: v for k, v in found.items() if v}
