"""PII in Chinese text, masked with maintained validators where they exist, each kind counted.

- ``id_number``: resident ID numbers (region, birth date, sequence, check character). Masked when they have
  the shape of one, whether or not the check character is right (a mistyped ID is still personal data);
  ``id_number_checked`` counts those python-stdnum (``stdnum.cn.ric``) confirms.
- ``bank_card``: 16-19 digits (grouped by spaces or dashes or not) starting 3-6 that pass the Luhn check
  (``stdnum.luhn``).
- ``phone`` (mobile) and ``landline``: shaped candidates validated by phonenumbers (libphonenumber's metadata
  for CN), so an order number of 13 digits or a hotline of 5 is not a phone; service numbers (400/800) are left.
- ``email``: bounded by ASCII, so 发送邮件至zhengwu@example.cn申请 masks only the address.
- ``qq`` and ``wechat``: an account number/id right after its label (QQ：…, 微信号：…, 加V信 …).

``scan`` is the push-time check: it looks for what is left with its own, broader detection (every digit run
checked by the validators, every @-address), so a gap in the masking rules shows up instead of hiding.
"""

from __future__ import annotations

import re

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])")
BANK_CARD = re.compile(r"(?<![0-9A-Za-z])[3-6]\d{3}(?:[ -]?\d{4}){2}(?:[ -]?\d{1,4}){1,2}(?![0-9A-Za-z])")
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])")
QQ = re.compile(r"(?i)(?<![A-Za-z])(?:QQ|扣扣)(?:号码?|群|账号)?\s*[:：]?\s*([1-9]\d{4,11})(?!\d)")
# a WeChat id starts with a letter and (to tell it from an English word after "WeChat") holds a digit, _ or -
WECHAT = re.compile(r"(?i)(?<![A-Za-z])(?:微信|薇信|威信|V信|vx|wx|weixin|wechat)(?:号|账号|ID)?\s*[:：]?\s*"
                    r"([A-Za-z](?=[-_A-Za-z0-9]*[\d_-])[-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])")
_LONG_DIGITS = re.compile(r"[0-9]{4}(?:[0-9]{11}|[ -][0-9]{4}[ -][0-9]{4})")  # an ID or a card is possible at all
# substring tests are far cheaper than a case-insensitive regex over every document
_ACCOUNT_WORDS = ("QQ", "qq", "Qq", "扣扣", "微信", "薇信", "威信", "V信", "v信", "vx", "VX", "Vx", "vX", "wx", "WX", "Wx",
                  "weixin", "Weixin", "WEIXIN", "wechat", "WeChat", "Wechat", "WECHAT")
_DIGIT_RUN = re.compile(r"(?:\+?86[-\s]?)?\(?\d[\d\s\-()]{5,}\d")
_DIGITS7 = re.compile(r"\d{3}[\d\s\-()]{3,}\d")

PLACEHOLDERS = {"id_number": "[身份证号]", "bank_card": "[银行卡号]", "phone": "[手机号]", "landline": "[电话]",
                "email": "[邮箱]", "qq": "[QQ号]", "wechat": "[微信号]"}


def _luhn_ok(digits: str) -> bool:
    from stdnum import luhn

    return 16 <= len(digits) <= 19 and luhn.is_valid(digits)


# candidates only; phonenumbers decides (number ranges, area codes), which keeps the regexes simple and the
# library's matcher (slow on long texts full of dates and figures) out of the hot path
PHONE_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?86[-\s]?)?(?:1[3-9]\d(?:[-\s]?\d{4}){2}"
    r"|(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[-\s]?)\d{3,4}[-\s]?\d{4}(?:-\d{1,5})?)(?![0-9A-Za-z])")


_NUMBER_RUN = re.compile(r"[+(（\d][\d\s\-()（）]{6,}\d")


def _phones(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of mobile and landline numbers: regex candidates validated by phonenumbers."""
    out = []
    for run in _NUMBER_RUN.finditer(text):  # a fast first pass (a pattern that starts with a class)
        for m in PHONE_CANDIDATE.finditer(text, max(run.start() - 1, 0), run.end()):
            kind = _phone_kind(m.group(0))
            if kind:
                out.append((m.start(), m.end(), kind))
    return out


def _phone_kind(candidate: str) -> str | None:
    import phonenumbers as pn

    try:
        num = pn.parse(candidate.replace("（", "(").replace("）", ")"), "CN")
    except pn.NumberParseException:
        return None
    if not pn.is_valid_number(num):
        return None
    kind = pn.number_type(num)
    if kind == pn.PhoneNumberType.MOBILE:
        return "phone"
    if kind in (pn.PhoneNumberType.FIXED_LINE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return "landline"
    return None


def _replace_spans(text: str, spans: list[tuple[int, int, str]], counts: dict[str, int]) -> str:
    for start, end, kind in sorted(spans, reverse=True):
        text = text[:start] + PLACEHOLDERS[kind] + text[end:]
        counts[kind] = counts.get(kind, 0) + 1
    return text


def mask(text: str) -> tuple[str, dict[str, int]]:
    """Replace PII with placeholders and count each kind. IDs and bank cards go first, so their digits are
    never read as phone numbers."""
    counts: dict[str, int] = {}
    if not text:
        return text, counts
    if _LONG_DIGITS.search(text):
        def id_sub(m: re.Match) -> str:
            from stdnum.cn import ric

            counts["id_number"] = counts.get("id_number", 0) + 1
            if ric.is_valid(m.group(0)):
                counts["id_number_checked"] = counts.get("id_number_checked", 0) + 1
            return PLACEHOLDERS["id_number"]

        text = ID_NUMBER.sub(id_sub, text)

        def card_sub(m: re.Match) -> str:
            if not _luhn_ok(re.sub(r"[ -]", "", m.group(0))):
                return m.group(0)
            counts["bank_card"] = counts.get("bank_card", 0) + 1
            return PLACEHOLDERS["bank_card"]

        text = BANK_CARD.sub(card_sub, text)
    text = _replace_spans(text, _phones(text), counts)
    if "@" in text:
        text, n = EMAIL.subn(PLACEHOLDERS["email"], text)
        if n:
            counts["email"] = n
    if not any(w in text for w in _ACCOUNT_WORDS):
        return text, counts
    for kind, pattern in (("qq", QQ), ("wechat", WECHAT)):
        def account_sub(m: re.Match, kind=kind) -> str:
            counts[kind] = counts.get(kind, 0) + 1
            return m.group(0)[: m.start(1) - m.start(0)] + PLACEHOLDERS[kind]

        text = pattern.sub(account_sub, text)
    return text, counts


def scan(text: str) -> dict[str, list[str]]:
    """PII still present in a text, by kind, found independently of ``mask``'s patterns: every digit run is
    checked as an ID (stdnum, or a birth date in its place), a card (Luhn) and a phone (phonenumbers); every @ as
    an address; an account id in a window after a QQ or WeChat word."""
    found: dict[str, list[str]] = {}
    if not text:
        return found

    def add(kind: str, value: str) -> None:
        found.setdefault(kind, []).append(value)

    for m in re.finditer(r"[0-9Xx\-\s]{15,23}", text):
        run = m.group(0).strip()
        digits = re.sub(r"[\s\-]", "", run)
        if len(digits) == 18 and re.fullmatch(r"\d{17}[\dXx]", digits):
            from stdnum.cn import ric

            if ric.is_valid(digits.upper()) or _birth_date_ok(digits[6:14]):  # a wrong check digit is still an ID
                add("id_number", run)
                continue
        if digits.isdigit() and digits[0] in "3456" and _luhn_ok(digits):
            add("bank_card", run)
    if _DIGITS7.search(text):
        for m in _DIGIT_RUN.finditer(text):  # every digit run, not the masking candidates
            kind = _phone_kind(m.group(0).strip())
            if kind:
                add(kind, m.group(0).strip())
    for m in re.finditer(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", text):
        add("email", m.group(0))
    # account ids by a window after their context word, not masking's anchored patterns: 加我QQ 12345678, 微信同号 abc_123
    for kind, word, account in (("qq", _SCAN_QQ, r"(?<!\d)[1-9]\d{4,11}(?!\d)"),
                                ("wechat", _SCAN_WECHAT, r"(?<![A-Za-z0-9_-])[A-Za-z][-_A-Za-z0-9]{5,19}(?![A-Za-z0-9_-])")):
        for m in word.finditer(text):
            a = re.search(account, text[m.end() : m.end() + SCAN_WINDOW + 20])
            if a and a.start() <= SCAN_WINDOW:  # the account starts within the window after the word
                add(kind, a.group(0))
    return found


SCAN_WINDOW = 12  # characters after a QQ or WeChat word in which the push scan looks for the account
_SCAN_QQ = re.compile(r"(?i)(?<![A-Za-z])(QQ|扣扣|企鹅号)")
_SCAN_WECHAT = re.compile(r"(?i)(?<![A-Za-z])(微信|薇信|威信|V信|vx|wx|weixin|wechat)(?![A-Za-z])")


def _birth_date_ok(yyyymmdd: str) -> bool:
    """Digits 7-14 of an 18-digit ID are a birth date (the push scan's own test, not masking's ID pattern)."""
    import datetime

    try:
        born = datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1900 <= born.year <= datetime.date.today().year
