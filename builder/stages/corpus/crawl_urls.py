"""URLs for the crawler: one normal form per article, and the rules for what may be fetched.

The normal form lowercases scheme and host, drops default ports, fragments, dot segments and
tracking parameters (courlan's tracker list plus the ones Chinese sites add: ``spm``, ``from``,
``scene``, ``chksm`` ...), sorts the query and percent-encodes consistently, so the same article
reached from a feed, a sitemap and a share link is fetched once.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from fnmatch import fnmatch
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

import courlan

SAFE_PATH = "/:@!$&'()*+,;=-._~"
DEFAULT_PORTS = {"http": 80, "https": 443}


def _requote(part: str, safe: str) -> str:
    """Percent-encode once and in upper case, whatever the input did (中文, %e4%b8%ad, %E4%B8%AD)."""
    return quote(unquote(part), safe=safe)


def _clean_path(path: str) -> str:
    if not path:
        return "/"
    trailing = path.endswith("/")
    norm = posixpath.normpath(path)
    norm = "/" + norm.lstrip("/") if norm != "." else "/"
    if trailing and not norm.endswith("/"):
        norm += "/"
    return _requote(norm, SAFE_PATH)


def _dropped(name: str, strip: list[str]) -> bool:
    low = name.lower()
    return any(fnmatch(low, pat) for pat in strip)


def normalize_url(url: str, strip_params: list[str] | tuple[str, ...] = (), base: str | None = None) -> str | None:
    """The normal form of an http(s) URL (resolved against ``base``), or None when it is not one."""
    url = (url or "").strip()
    if not url:
        return None
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        url = courlan.normalize_url(url)  # courlan's public normaliser drops its tracker parameters (utm_*, fbclid …)
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _dropped(k, list(strip_params))]
    query.sort()
    return urlunsplit((scheme, netloc, _clean_path(parts.path), urlencode(query, quote_via=quote, safe="-._~"), ""))


def origin(url: str) -> str:
    """scheme://host[:port], the unit of robots.txt and of per-host politeness."""
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def host_of(url: str) -> str:
    return urlsplit(url).netloc


@dataclass
class UrlRules:
    """What the config allows: http(s) only, allowed domains (and their subdomains), allow/deny regexes."""

    allowed_domains: list[str]
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.domains = [d.lower().lstrip(".") for d in self.allowed_domains]
        self._allow = [re.compile(p) for p in self.allow]
        self._deny = [re.compile(p) for p in self.deny]

    def why_not(self, url: str) -> str | None:
        """None when the URL may be fetched, else the reason (a counter name)."""
        p = urlsplit(url)
        if p.scheme not in DEFAULT_PORTS:
            return "not_http"
        host = (p.hostname or "").lower()
        if self.domains and not any(host == d or host.endswith("." + d) for d in self.domains):
            return "outside_allowed_domains"
        if any(rx.search(url) for rx in self._deny):
            return "url_pattern_denied"
        if self._allow and not any(rx.search(url) for rx in self._allow):
            return "url_pattern_not_allowed"
        return None
