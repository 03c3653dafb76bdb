"""Record files (JSONL, JSON, CSV, Parquet): one document per record, through a field mapping.

Records stream in batches, so a large file never sits in memory whole; a malformed record is
reported alone with its line or row number and the rest of the file is kept.
"""

from __future__ import annotations

import codecs
import csv
import html
import json
import re
from pathlib import Path
from typing import Any, Iterator

from ...text.markup import FieldTypeError, value_text
from .extract import RawDoc, UnreadableFile, parse_date

DEFAULT_FIELDS = {"text": ["text", "content", "body", "article", "正文", "内容"], "title": ["title", "headline", "contenttitle", "标题"],
                  "published": ["published", "date", "pub_time", "pubdate", "time", "发布时间"],
                  "author": ["author", "byline", "作者"], "url": ["url", "link"], "id": ["id"]}


def pick(record: dict[str, Any], fields: dict[str, str], key: str) -> Any:
    if key in fields:
        return record.get(fields[key])
    for name in DEFAULT_FIELDS[key]:
        if name in record:
            return record[name]
    return None


# each item: (suffix like "#L3", record dict) or (suffix, UnreadableFile)
RecordItem = tuple[str, "dict[str, Any] | UnreadableFile"]


def _raw(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").rstrip("\r\n")


def iter_jsonl(path: Path, encoding: str = "auto") -> Iterator[RecordItem]:
    enc = "utf-8-sig" if encoding == "auto" else encoding
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode(enc))
            except UnicodeDecodeError as exc:
                try:
                    obj = json.loads(raw.decode("gb18030"))
                except (UnicodeDecodeError, ValueError):
                    yield f"#L{n}", UnreadableFile("unreadable_record", f"line {n}: not UTF-8 ({exc.reason})", _raw(raw))
                    continue
            except ValueError as exc:
                yield f"#L{n}", UnreadableFile("unreadable_record", f"line {n}: invalid JSON: {exc}", _raw(raw))
                continue
            if not isinstance(obj, dict):
                yield f"#L{n}", UnreadableFile("unreadable_record", f"line {n}: expected a JSON object, got {type(obj).__name__}", _raw(raw))
                continue
            yield f"#L{n}", obj


def iter_json(path: Path, encoding: str = "auto") -> Iterator[RecordItem]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig" if encoding == "auto" else encoding))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableFile("unreadable_file", f"invalid JSON file: {exc}") from None
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), [data])
    if not isinstance(data, list):
        raise UnreadableFile("unreadable_file", "JSON file must hold an object or a list of objects")
    for n, obj in enumerate(data):
        if isinstance(obj, dict):
            yield f"#{n}", obj
        else:
            yield f"#{n}", UnreadableFile("unreadable_record", f"item {n}: expected an object, got {type(obj).__name__}")


DELIMITERS = ",\t;|"


def sniff_delimiter(path: Path, sample: str) -> str:
    """Tab for .tsv/.tab; else the delimiter csv.Sniffer finds among , tab ; | in the first lines; else a comma."""
    if path.suffix.lower() in {".tsv", ".tab"}:
        return "\t"
    head = "\n".join(sample.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def iter_csv(path: Path, encoding: str = "auto", delimiter: str = "auto") -> Iterator[RecordItem]:
    csv.field_size_limit(1 << 30)
    enc = "utf-8-sig" if encoding == "auto" else encoding
    with open(path, "rb") as f:
        head = f.read(65536)
    try:  # incremental: the sample may end inside a multi-byte character
        sample = codecs.getincrementaldecoder(enc)().decode(head, final=False)
    except UnicodeDecodeError:
        if encoding != "auto":
            raise UnreadableFile("unreadable_encoding", f"not {encoding}") from None
        enc = "gb18030"
        sample = head.decode(enc, errors="replace")
    if delimiter == "auto":
        delimiter = sniff_delimiter(path, sample)
    with open(path, encoding=enc, newline="", errors="strict") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        n = 0
        while True:
            n += 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise UnreadableFile("unreadable_encoding", f"row {n}: not {enc}: {exc.reason}; the rest of the file is unreadable") from None
            except csv.Error as exc:
                yield f"#row{n}", UnreadableFile("unreadable_record", f"row {n}: {exc}")
                continue
            if None in row:  # more cells than header columns
                yield f"#row{n}", UnreadableFile("unreadable_record", f"row {n}: {len(row[None])} cells more than the header",
                                                 json.dumps(row, ensure_ascii=False, default=str))
                continue
            yield f"#row{n}", dict(row)


def iter_parquet(path: Path, encoding: str = "auto") -> Iterator[RecordItem]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid and OSError variants
        raise UnreadableFile("unreadable_file", f"invalid Parquet file: {str(exc)[:120]}") from None
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                yield f"#row{n}", row
                n += 1
    except Exception as exc:  # noqa: BLE001 - a damaged row group: rows read so far are kept
        raise UnreadableFile("unreadable_file", f"invalid Parquet data after row {n}: {str(exc)[:120]}") from None


COUNTS_FIELD = "\0decode_counts"  # not a field name any file can hold
_TAG = re.compile(r"<([A-Za-z_][\w.-]*)>(.*?)</\1>", re.S)


def iter_xml_records(path: Path, encoding: str = "auto", record_tag: str = "doc") -> Iterator[RecordItem]:
    """Record-per-element XML-ish dumps such as SogouCA (``<doc><url/><contenttitle/><content/></doc>``):
    each child element becomes a field. Parsed with a regex, since such dumps are rarely well-formed XML."""
    from .decode import DecodeError, decode_detail

    try:
        d = decode_detail(path.read_bytes(), encoding)
    except DecodeError as exc:
        raise UnreadableFile("unreadable_encoding", str(exc)) from None
    counts = d.counts()
    pattern = re.compile(rf"<{re.escape(record_tag)}>(.*?)</{re.escape(record_tag)}>", re.S)
    for n, m in enumerate(pattern.finditer(d.text)):
        record = {k: html.unescape(v.strip()) for k, v in _TAG.findall(m.group(1))}
        if counts and n == 0:  # the file's decoding counters ride on its first record
            record[COUNTS_FIELD] = counts
        yield f"#{record_tag}{n}", record


def iter_feed(path: Path, encoding: str = "auto") -> Iterator[RecordItem]:
    """A local RSS or Atom file through feedparser (tolerant of malformed XML, charset from the declaration):
    one record per entry with title, url, published (ISO date), author and content (the full content when the
    feed has it, else the summary); HTML in the content is turned into text by the cleaner's markup step."""
    import time

    import feedparser

    from .decode import DecodeError, decode_detail

    data = path.read_bytes()
    declared = re.search(rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.-]+)""", data[:512])
    source: bytes | str = data
    if encoding != "auto" or not declared:  # no declaration: our detection, not feedparser's windows-1252 guess
        try:
            text = decode_detail(data, encoding).text
        except DecodeError as exc:
            raise UnreadableFile("unreadable_encoding", str(exc)) from None
        source = re.sub(r"""^\ufeff?(<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""", r"\1", text)
    feed = feedparser.parse(source)
    if not feed.entries:
        why = f": {type(feed.bozo_exception).__name__}: {str(feed.bozo_exception)[:100]}" if feed.get("bozo") else ""
        raise UnreadableFile("not_a_feed", f"no RSS/Atom entries in the file{why}")
    for n, e in enumerate(feed.entries):
        content = ""
        if e.get("content"):
            content = max((c.get("value") or "" for c in e["content"]), key=len)
        if len(content) < len(e.get("summary") or ""):
            content = e.get("summary") or ""
        when = e.get("published_parsed") or e.get("updated_parsed")
        record = {"title": e.get("title"), "url": e.get("link"), "author": e.get("author"), "content": content,
                  "published": time.strftime("%Y-%m-%d", when) if when else (e.get("published") or e.get("updated")),
                  "id": e.get("id")}
        yield f"#item{n}", {k: v for k, v in record.items() if v is not None}


ITERATORS = {"jsonl": iter_jsonl, "json": iter_json, "csv": iter_csv, "parquet": iter_parquet, "xmlrecords": iter_xml_records, "rss": iter_feed}


def decode_field(value: Any) -> str | None:
    """A field as text, or None when missing or a null literal (None, nan, "null")."""
    try:
        return value_text(value, "?")
    except FieldTypeError:
        return None


def record_to_raw(record: dict[str, Any], fields: dict[str, str], fmt: str, suffix: str) -> RawDoc | UnreadableFile:
    """Map one record to a RawDoc through the field mapping, or say why it has no usable text.

    The text field may be a string or a list of paragraphs (joined with blank lines); an object or a list
    of non-strings, and a number, are rejected as ``text_field_type``. Metadata fields that are not text are dropped."""
    want = fields.get("text", "text/content")
    counts = record.pop(COUNTS_FIELD, None) if COUNTS_FIELD in record else None
    value = pick(record, fields, "text")
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:  # (NaN is a null)
            raise FieldTypeError(f"field '{want}' is a number ({value!r}), not text")  # metadata numbers stay text
        text = value_text(value, want)
    except FieldTypeError as exc:
        return UnreadableFile("text_field_type", f"record {suffix[1:]}: {exc}")
    if not text or not text.strip():
        return UnreadableFile("missing_text_field", f"record {suffix[1:]}: no text in field '{want}'")
    meta: dict[str, Any] = {"_counts": counts} if counts else {}
    url = decode_field(pick(record, fields, "url"))
    if url:
        meta["url"] = url
    rid = decode_field(pick(record, fields, "id"))
    if rid is not None:
        meta["record_id"] = rid
    return RawDoc(text=text, title=decode_field(pick(record, fields, "title")),
                  published=parse_date(decode_field(pick(record, fields, "published"))),
                  author=decode_field(pick(record, fields, "author")), format=fmt, path_suffix=suffix, meta=meta)
