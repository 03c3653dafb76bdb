"""What of an endpoint may be shown: its URL without credentials, and server messages with secrets scrubbed.

The API key never appears in an error message: :class:`Redactor` scrubs it (and its last six characters,
which some servers echo) from whatever the server says. A ``base_url`` is shown without its userinfo and
query string (``user:key@host``, ``?api-key=…``), and their values are scrubbed from the server's words too.
"""

from __future__ import annotations

import urllib.parse


def display_url(url: str) -> str:
    """The endpoint URL as it may be shown: no ``user:password@``, no query string or fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<the configured base_url>"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def url_secrets(url: str) -> list[str]:
    """Values in a URL that may be credentials: the userinfo and every query value (4 characters or more)."""
    try:
        parts = urllib.parse.urlsplit(url)
        found = [parts.password or "", parts.username or ""]
    except ValueError:
        return []
    for _name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        found.append(value)
    found += [part.split("=", 1)[-1] for part in parts.query.split("&")]  # raw, in case they are percent-encoded
    return sorted({v for v in found if len(v) >= 4}, key=len, reverse=True)


class Redactor:
    """Scrubs the API key and the base URL's secrets from a text (``***`` in their place)."""

    def __init__(self, base_url: str, api_key: str | None):
        self.secrets = url_secrets(base_url)
        self.key = api_key or ""

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        if self.key and len(self.key) >= 4:
            text = text.replace(self.key, "***")
            text = text.replace(self.key[-6:], "***") if len(self.key) > 12 else text
        return text
