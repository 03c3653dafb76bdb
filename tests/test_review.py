"""Review files: checked with one-line errors, merged (a later decision replaces an earlier one), and read
by export as a filter on items, their articles, sub-categories and sources."""

from __future__ import annotations

import json

import pytest

from builder.errors import BuilderError
from builder.review import APPLIED, Decision, ReviewFilter, apply_decisions, parse_decisions, read_applied


def _write(tmp_path, doc, name="review.json"):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def _doc(*decisions):
    return {"format": "builder-review", "version": 1, "build": "t", "decisions": list(decisions)}


@pytest.mark.parametrize("doc, message", [
    ("{not json", r"review\.json: not valid JSON \(line 1"),
    ({"decisions": []}, r"review\.json: not a review file"),
    ({"format": "builder-review", "version": 9, "decisions": []}, r"version 9 is not supported"),
    (_doc({"kind": "record", "id": "a", "decision": "maybe"}), r"decisions\[0\]: decision must be 'accept' or 'reject', got 'maybe'"),
    (_doc({"kind": "record", "id": "a", "decision": "reject"}, {"kind": "family", "id": "x", "decision": "reject"}),
     r"decisions\[1\]: kind must be one of record, subcategory, source, got 'family'"),
    (_doc({"kind": "source", "id": " ", "decision": "reject"}), r"decisions\[0\]: empty id"),
])
def test_bad_review_files_are_one_line_errors_naming_the_entry(tmp_path, doc, message):
    with pytest.raises(BuilderError, match=message) as err:
        parse_decisions(_write(tmp_path, doc))
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(BuilderError, match=r"nope\.json: review file not found"):
        parse_decisions(tmp_path / "nope.json")


def test_apply_merges_and_a_later_decision_wins(tmp_path):
    first = parse_decisions(_write(tmp_path, _doc({"kind": "record", "id": "a", "decision": "reject", "note": "错"},
                                                  {"kind": "subcategory", "id": "s1", "decision": "reject"})))
    done = apply_decisions(tmp_path, first)
    assert (done.added, done.changed, done.total, done.rejected) == (2, 0, 2, 2)
    stamp = (tmp_path / APPLIED).stat().st_mtime_ns
    again = apply_decisions(tmp_path, first)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 2) and (tmp_path / APPLIED).stat().st_mtime_ns == stamp
    second = parse_decisions(_write(tmp_path, _doc({"kind": "record", "id": "a", "decision": "accept"},
                                                   {"kind": "source", "id": "cctv", "decision": "reject"}), "r2.json"))
    done = apply_decisions(tmp_path, second)
    assert (done.added, done.changed, done.total, done.rejected) == (1, 1, 3, 2)
    applied = {d.slot: d.decision for d in read_applied(tmp_path)}
    assert applied == {"record:a": "accept", "subcategory:s1": "reject", "source:cctv": "reject"}


def test_the_filter_rejects_items_by_id_article_subcategory_and_source():
    f = ReviewFilter([Decision("record", "i1", "reject", "export", "事实有误"), Decision("record", "doc9", "reject", "dedup"),
                      Decision("record", "i3", "accept"), Decision("subcategory", "qa", "reject"),
                      Decision("source", "cctv", "reject", note="版权")])

    def item(i, sub="x", src="d1", source="demo"):
        return {"id": i, "subcategory": sub, "source_id": src, "origin": "templates", "meta": json.dumps({"source": source})}

    assert "a reviewer rejected the item: 事实有误" in f.rejects(item("i1"))
    assert "its article doc9" in f.rejects(item("i2", src="doc9"))
    assert "its sub-category qa" in f.rejects(item("i2", sub="qa"))
    assert "its source cctv: 版权" in f.rejects(item("i2", source="cctv"))
    assert f.rejects(item("i3")) is None and f.rejects(item("i2")) is None
    rows = f.card_rows([item("i3"), item("i2")], [item("i1")])
    assert rows == [{"subcategory": "x", "items": 3, "reviewed": 2, "rejected": 1, "reviewed_share": 0.6667, "rejection_rate": 0.5}]
    assert not ReviewFilter([])
