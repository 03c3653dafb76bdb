"""When to try a failed HTTP request again: the server's ``Retry-After`` and exponential backoff.

One helper for every client of the project that retries (the LLM client and the crawler), so a header is
read the same way everywhere: ``retry-after-ms`` (OpenAI-compatible servers), then ``Retry-After`` as
delta-seconds or an HTTP date.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import Mapping


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None without one.

    ``headers`` is any mapping with lower-case keys or a case-insensitive one (httpx's ``Headers``)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, base: float, cap: float | None = None, jitter: bool = False) -> float:
    """The wait before retry number ``attempt`` (1 for the first): ``base * 2**(attempt-1)``, at most ``cap``.

    With ``jitter`` the wait is drawn between half of that and all of it, so clients that failed together
    do not come back together."""
    ceiling = base * (2 ** (attempt - 1))
    if cap is not None:
        ceiling = min(cap, ceiling)
    return ceiling / 2 + random.uniform(0, ceiling / 2) if jitter else ceiling
