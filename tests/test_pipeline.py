"""Staged builds: outputs, manifests, freshness, force, atomic writes, kill-and-resume, bad inputs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from builder.config import load_config
from builder.pipeline import statuses
from conftest import ARTICLE, DEMO

SOURCES = """
[[corpus.sources]]
name = "files"
path = "docs"
fields = { text = "content" }
"""


def _write_docs(root: Path, n: int = 3) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (docs / f"a{i:04d}.txt").write_text(ARTICLE.replace("三条", f"{i + 3}条"), encoding="utf-8")
    return docs


def _data(out: Path, stage: str = "corpus") -> pl.DataFrame:
    return pl.read_parquet(sorted((out / stage / "data").glob("*.parquet"))).sort("path")


def _rejected(out: Path, stage: str = "corpus") -> pl.DataFrame:
    return pl.read_parquet(sorted((out / stage / "rejected").glob("*.parquet"))).sort("path")


def test_stage_folder_layout_and_manifest(tmp_path, make_build, cli):
    _write_docs(tmp_path)
    cfg = make_build(SOURCES)
    r = cli("run", "corpus", "-c", cfg)
    assert r.code == 0, r
    out = tmp_path / "out" / "corpus"
    assert (out / "data" / "part-00000.parquet").exists() and (out / "rejected" / "part-00000.parquet").exists()
    assert (out / "report" / "summary.parquet").exists() and (out / "report" / "README.md").exists()
    m = json.loads((out / "manifest.json").read_text())
    assert m["stage"] == "corpus" and m["rows"] == {"data": 3, "rejected": 0}
    assert set(m) >= {"config_hash", "code_hash", "inputs", "output", "version", "counters", "files", "problems", "rerun"}
    assert m["files"] == {"data/part-00000.parquet": [(out / "data" / "part-00000.parquet").stat().st_size, 3],
                          "rejected/part-00000.parquet": [(out / "rejected" / "part-00000.parquet").stat().st_size, 0]}
    assert "source:files" in m["inputs"]
    df = _data(tmp_path / "out")
    assert df.columns == ["id", "content_hash", "source", "path", "title", "text", "published", "author", "format", "meta"]
    assert df["path"].to_list() == ["docs/a0000.txt", "docs/a0001.txt", "docs/a0002.txt"]
    assert df["published"].to_list() == ["2025-03-14"] * 3
    assert not (tmp_path / "out" / ".tmp").exists()  # per-run temporary folders go with the run


def test_fresh_stage_is_skipped_and_says_why(tmp_path, make_build, cli):
    _write_docs(tmp_path)
    cfg = make_build(SOURCES)
    cli("run", "corpus", "-c", cfg)
    before = (tmp_path / "out" / "corpus" / "manifest.json").read_text()
    r = cli("run", "corpus", "-c", cfg)
    assert r.code == 0 and "corpus: up to date" in r.out and "config, code and inputs unchanged" in " ".join(r.out.split())
    assert (tmp_path / "out" / "corpus" / "manifest.json").read_text() == before


def test_changed_config_input_or_force_reruns(tmp_path, make_build, cli):
    docs = _write_docs(tmp_path)
    cfg = make_build(SOURCES)
    cli("run", "corpus", "-c", cfg)
    build = load_config(cfg)
    assert statuses(build, upto="corpus")[0].state == "done"

    (docs / "new.txt").write_text(ARTICLE.replace("三条", "九条"), encoding="utf-8")
    st = statuses(load_config(cfg), upto="corpus")[0]
    assert st.state == "stale" and st.reason == "input changed: source:files"
    r = cli("run", "corpus", "-c", cfg)
    assert "running (input changed: source:files)" in r.out
    assert _data(tmp_path / "out").height == 4

    cfg.write_text(cfg.read_text() + "\n[corpus.clean]\nmin_chars = 10\n")
    assert statuses(load_config(cfg), upto="corpus")[0].reason == "config changed"
    cli("run", "corpus", "-c", cfg)
    r = cli("run", "corpus", "-c", cfg, "--force")
    assert "running (forced)" in r.out


def test_status_and_report_commands(tmp_path, make_build, cli):
    _write_docs(tmp_path)
    cfg = make_build(SOURCES)
    r = cli("status", "-c", cfg)
    assert r.code == 0 and "missing" in r.out and "never built" in r.out
    cli("run", "corpus", "-c", cfg)
    build = load_config(cfg)
    assert [(s.name, s.state) for s in statuses(build, upto="corpus")] == [("corpus", "done")]
    r = cli("status", "-c", cfg)
    row = next(line for line in r.out.splitlines() if "corpus" in line)
    assert r.code == 0 and " done " in row and "3 kept / 0 rejected" in row, r
    r = cli("report", "corpus", "-c", cfg)
    assert r.code == 0 and "rows_in" in r.out and "lengths" in r.out and "tokens_cl100k" in r.out


BAD_INPUTS = {
    "empty.txt": (b"", "empty_file"),
    "binary.txt": (bytes(range(256)) * 8, "unreadable_encoding"),
}


def test_bad_inputs_are_rejected_with_reasons_and_the_rest_is_kept(tmp_path, make_build, cli):
    from pypdf import PdfWriter

    docs = _write_docs(tmp_path, 2)
    for name, (data, _) in BAD_INPUTS.items():
        (docs / name).write_bytes(data)
    pdf = (DEMO / "pdf" / "media_handbook.pdf").read_bytes()
    (docs / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    w = PdfWriter(clone_from=DEMO / "pdf" / "media_handbook.pdf")
    w.encrypt(user_password="pw", algorithm="AES-128")
    with open(docs / "encrypted.pdf", "wb") as f:
        w.write(f)
    (docs / "good.pdf").write_bytes(pdf)
    (docs / "gbk.txt").write_bytes(ARTICLE.replace("青川", "河湾").encode("gbk"))
    (docs / "lines.jsonl").write_text(
        json.dumps({"content": ARTICLE.replace("青川", "临江")}, ensure_ascii=False) + "\n{broken\n"
        + json.dumps({"content": ARTICLE.replace("青川", "南屏")}, ensure_ascii=False) + "\n", encoding="utf-8")
    (docs / "notes.xyz").write_text("?", encoding="utf-8")
    cfg = make_build(SOURCES + '\n[[corpus.sources]]\nname = "gone"\npath = "no/such/folder"\n')
    r = cli("run", "corpus", "-c", cfg)
    assert r.code == 3, r  # the build goes on, and says it is partial
    assert "partial: corpus: source 'gone': folder not found" in r.err
    rej = _rejected(tmp_path / "out")
    reasons = dict(zip(rej["path"].to_list(), rej["reason"].to_list()))
    assert reasons["docs/empty.txt"] == "empty_file"
    assert reasons["docs/binary.txt"] == "unreadable_encoding"
    assert reasons["docs/truncated.pdf"] == "truncated_pdf"
    assert reasons["docs/encrypted.pdf"] == "encrypted_pdf"
    assert reasons["docs/lines.jsonl#L2"] == "unreadable_record"
    assert reasons["docs/notes.xyz"] == "unsupported_format"
    assert reasons["no/such/folder"] == "missing_source"
    assert all(rej["detail"].str.len_chars() > 0)
    kept = _data(tmp_path / "out")
    assert set(kept["path"]) == {"docs/a0000.txt", "docs/a0001.txt", "docs/gbk.txt", "docs/good.pdf", "docs/lines.jsonl#L1", "docs/lines.jsonl#L3"}
    assert "河湾" in kept.filter(pl.col("path") == "docs/gbk.txt")["text"][0]
    drops = pl.read_parquet(tmp_path / "out" / "corpus" / "report" / "drops.parquet")
    assert dict(zip(drops["reason"], drops["count"]))["encrypted_pdf"] == 1


def test_stable_ids_are_content_hashes(tmp_path, make_build, cli):
    _write_docs(tmp_path, 2)
    cfg = make_build(SOURCES)
    cli("run", "corpus", "-c", cfg)
    first = _data(tmp_path / "out")["id"].to_list()
    cli("run", "corpus", "-c", cfg, "--force")
    assert _data(tmp_path / "out")["id"].to_list() == first and len(set(first)) == 2


def test_records_are_checked_against_the_document_schema(tmp_path, make_build, cli):
    from builder.config import schema_validator, first_error

    _write_docs(tmp_path, 1)
    cli("run", "corpus", "-c", make_build(SOURCES))
    v = schema_validator("document")
    row = _data(tmp_path / "out").row(0, named=True)
    assert first_error(v, row) is None
    assert "does not match" in first_error(v, dict(row, published="March"))


def test_parallel_workers_give_the_same_output_as_one(tmp_path, make_build, cli):
    _write_docs(tmp_path, 40)
    cli("run", "corpus", "-c", make_build(SOURCES, workers=1))
    one = _data(tmp_path / "out")
    cli("run", "corpus", "-c", make_build(SOURCES, workers=2), "--force")
    assert _data(tmp_path / "out").equals(one)


def _spawn(cfg: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "builder.cli", "run", "corpus", "-c", str(cfg), "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_killed_mid_stage_then_resumed_equals_uninterrupted(tmp_path, make_build):
    _write_docs(tmp_path, 600)
    cfg = make_build(SOURCES + "\n", workers=1)
    cfg.write_text(cfg.read_text().replace("[build]\n", "[build]\nshard_rows = 50\n"))
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = _spawn(cfg, killed)
    deadline = time.time() + 60
    while time.time() < deadline and not list((killed / ".tmp").glob("corpus-*/data/part-*.parquet")):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "corpus" / "manifest.json").exists(), "the kill landed after the stage finished"
    assert _spawn(cfg, killed).wait() == 0
    assert _spawn(cfg, clean).wait() == 0
    assert _data(killed).equals(_data(clean)) and _data(clean).height == 600
    assert sorted(p.name for p in (killed / "corpus" / "data").iterdir()) == sorted(p.name for p in (clean / "corpus" / "data").iterdir())
    assert json.loads((killed / "corpus" / "manifest.json").read_text())["output"] == json.loads((clean / "corpus" / "manifest.json").read_text())["output"]


def test_demo_corpus_end_to_end(tmp_path, cli):
    r = cli("run", "corpus", "-c", DEMO / "build.toml", "--output", tmp_path / "demo")
    assert r.code == 0, r
    kept = _data(tmp_path / "demo")
    rej = _rejected(tmp_path / "demo")
    reasons = dict(zip(rej["path"].to_list(), rej["reason"].to_list()))
    assert reasons["junk/empty.txt"] == "empty_file" and reasons["junk/binary.txt"] == "unreadable_encoding"
    assert reasons["junk/junk_english.txt"] == "dropped_cjk_ratio" and reasons["junk/junk_garbled.txt"] == "dropped_garbled"
    assert reasons["junk/junk_repeated.txt"] == "dropped_dup_lines" and reasons["jsonl/articles.jsonl#L5"] == "unreadable_record"
    text = dict(zip(kept["path"].to_list(), kept["text"].to_list()))
    assert "[手机号]" in text["junk/pii_notice.txt"] and "13812345678" not in text["junk/pii_notice.txt"]
    assert "扫码" not in text["junk/ad_tail.txt"] and "责任编辑" not in text["junk/ad_tail.txt"]
    assert not any(0x2F00 <= ord(c) <= 0x2FDF for c in text["junk/radicals.txt"])
    assert "原标题" not in text["reposts/repost_01.txt"]
    assert kept.filter(pl.col("format") == "pdf").height == 1
    assert set(kept["format"]) >= {"txt", "md", "html", "pdf", "jsonl"}


def test_every_command_has_help_with_an_example(cli):
    from builder.cli import app
    import typer.main

    group = typer.main.get_command(app)
    for name in group.list_commands(None):  # type: ignore[arg-type]
        r = cli(name, "--help")
        assert r.code == 0, name
        assert "Example" in r.out, f"'builder {name} --help' shows no example"


def test_user_errors_are_one_line(tmp_path, cli, make_build):
    for args, needle in [(("run", "corpus", "-c", tmp_path / "nope.toml"), "config file not found"),
                         (("run", "nosuchstage", "-c", make_build(SOURCES)), "unknown stage 'nosuchstage'"),
                         (("run",), "Missing")]:
        r = cli(*args)
        assert r.code != 0 and needle in r.err, r
        assert r.err.strip().count("\n") == 0 and "Traceback" not in r.err




@pytest.mark.slow
def test_run_all_then_from_and_upstream_changes_on_the_demo(tmp_path, cli):
    out = tmp_path / "demo"
    cfg = tmp_path / "build.toml"
    cfg.write_text((DEMO / "build.toml").read_text(encoding="utf-8").replace('path = "."', f'path = "{DEMO}"'), encoding="utf-8")
    assert cli("run", "all", "-c", cfg, "--output", out).code == 0
    r = cli("run", "all", "-c", cfg, "--output", out, "--from", "templates")
    assert r.code == 0, r
    assert "corpus: up to date" in r.out and "dedup: up to date" in r.out
    assert "templates: running (forced)" in r.out and "export: running (forced)" in r.out
    # a corpus rule that changes the documents reruns corpus, and every stage after it sees a new input
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[corpus.clean]\nmin_chars = 500\n", encoding="utf-8")
    st = {s.name: s for s in statuses(load_config(cfg, out))}
    assert st["corpus"].reason == "config changed"
    assert st["dedup"].state == "stale" and "upstream 'corpus'" in st["dedup"].reason
    r = cli("run", "all", "-c", cfg, "--output", out)
    assert "corpus: running (config changed)" in r.out and "dedup: running (input changed: corpus)" in r.out
    assert json.loads((out / "corpus" / "manifest.json").read_text())["rows"]["data"] < 70


def test_a_run_lists_each_source_once(tmp_path, make_build, cli, monkeypatch):
    """Listing a large corpus is not free: one `builder run` walks each source folder once, not once per check."""
    import builder.stages.corpus as corpus

    _write_docs(tmp_path, 3)
    calls = []
    real = corpus.fingerprint_source
    monkeypatch.setattr(corpus, "fingerprint_source", lambda root, src: calls.append(src["name"]) or real(root, src))
    r = cli("run", "dedup", "-c", make_build(SOURCES))
    assert r.code == 0, r
    assert calls == ["files"]
