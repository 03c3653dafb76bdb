"""Reliability: one build per output folder, interrupts, honest exit codes, fault isolation, freshness.

Each test is named after what it proves. Signals are real signals to real processes; the endpoint is a
real HTTP server on 127.0.0.1 (``fake_openai``); worker deaths are real SIGKILLs of pool processes.
"""

from __future__ import annotations

import errno
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psutil
import pytest

from builder import pipeline
from builder.config import load_config
from builder.manifest import Manifest
from builder.workers import TaskError, TaskFailed, run_tasks
from conftest import ARTICLE, DEMO, ROOT
from fake_openai import FakeOpenAI, Reply, grounded_items, html_page, to_json

SOURCES = """
[[corpus.sources]]
name = "files"
path = "docs"
"""


def write_docs(root: Path, n: int, start: int = 0) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        (docs / f"a{i:05d}.txt").write_text(ARTICLE.replace("三条", f"{i + 3}条"), encoding="utf-8")
    return docs


def data(out: Path, stage: str = "corpus") -> pl.DataFrame:
    return pl.read_parquet(sorted((out / stage / "data").glob("*.parquet"))).sort("path")


def rejected(out: Path, stage: str = "corpus") -> pl.DataFrame:
    return pl.read_parquet(sorted((out / stage / "rejected").glob("*.parquet"))).sort("path")


def spawn(cfg: Path, *args: str, out: Path | None = None) -> subprocess.Popen:
    """``builder run ...`` as its own process group (a terminal's Ctrl-C reaches the whole group)."""
    cmd = [sys.executable, "-m", "builder.cli", "run", *args, "-c", str(cfg)] + (["--output", str(out)] if out else [])
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, start_new_session=True, text=True)


def wait_for(predicate, seconds: float = 60, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended early: {proc.communicate()}")
        time.sleep(0.01)
    raise AssertionError("timed out waiting")


def mid_stage(out: Path, stage: str = "corpus") -> bool:
    """A running stage has written its first shard into its temporary folder."""
    return any((out / ".tmp").glob(f"{stage}-*/data/part-*.parquet"))


def cached_replies(out: Path) -> int:
    import sqlite3

    db = out / ".cache" / "llm.sqlite"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- one build at a time ----------------------------------------------------------------------------------------
def test_a_second_run_on_the_same_output_gets_a_lock_error_and_the_first_output_is_exact(tmp_path, make_build, cli):
    write_docs(tmp_path, 1500)
    cfg = make_build(SOURCES, workers=1)
    cfg.write_text(cfg.read_text().replace("[build]\n", "[build]\nshard_rows = 100\n"))
    first = spawn(cfg, "corpus")
    wait_for(lambda: mid_stage(tmp_path / "out"), proc=first)
    r = cli("run", "corpus", "-c", cfg, "--force")
    assert r.code == 1 and r.err.count("\n") == 1, r
    assert "is being built by another builder run" in r.err and f"pid {first.pid}" in r.err and "builder run corpus" in r.err
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, (out, err)
    got = data(tmp_path / "out")
    assert got.height == 1500 and got["path"].n_unique() == 1500
    m = Manifest.read(tmp_path / "out" / "corpus")
    assert m.rows["data"] == 1500 and sum(rows for _size, rows in m.files.values()) == 1500 + m.rows["rejected"]
    # the lock is released with the process: the next run goes ahead
    assert cli("run", "corpus", "-c", cfg).code == 0


# -- interrupts --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_process_group_stops_workers_promptly_and_keeps_the_previous_output(tmp_path, make_build, cli, sig, code):
    cfg = make_build(SOURCES, workers=2)
    cfg.write_text(cfg.read_text().replace("[build]\n", "[build]\nshard_rows = 200\n"))
    out = tmp_path / "out"
    write_docs(tmp_path, 5)  # a first, complete build to keep
    assert cli("run", "corpus", "-c", cfg).code == 0
    before = Manifest.read(out / "corpus")
    write_docs(tmp_path, 12000)
    proc = spawn(cfg, "corpus")
    wait_for(lambda: mid_stage(out) and psutil.Process(proc.pid).children(), proc=proc)
    workers = psutil.Process(proc.pid).children(recursive=True)
    t0 = time.monotonic()
    os.killpg(proc.pid, sig)
    stdout, stderr = proc.communicate(timeout=30)
    seconds = time.monotonic() - t0
    assert proc.returncode == code, stderr
    assert seconds < 5, f"{seconds:.1f} s from the signal to the exit"
    assert stderr.strip().splitlines()[-1] == "interrupted: run the same command again to resume", stderr
    assert "Traceback" not in stderr
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"workers still running: {alive}"
    after = Manifest.read(out / "corpus")
    assert after.output == before.output and data(out).height == 5  # the previous complete output, untouched
    assert not list((out / ".tmp").glob("corpus-*")), "the interrupted run's temporary folder was left behind"
    # and the same command again finishes the job
    assert cli("run", "corpus", "-c", cfg).code == 0 and data(out).height == 12000


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_request_loop_promptly_and_the_rerun_pays_only_for_what_it_lacks(tmp_path, sig, code):
    env_key = {"FAKE_LLM_KEY": "sk-test-key"}
    with FakeOpenAI(delay=0.2) as srv:
        cfg = _llm_build(tmp_path, srv.url, n_docs=12)
        srv.hold_after = 5  # five replies, then the provider stalls: requests are in flight when the signal comes
        proc = subprocess.Popen([sys.executable, "-m", "builder.cli", "run", "selfinstruct", "-c", str(cfg)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                                env={**os.environ, **env_key})
        wait_for(lambda: srv.hits > 5 and cached_replies(tmp_path / "out") == 5, proc=proc)
        t0 = time.monotonic()
        os.killpg(proc.pid, sig)
        _, stderr = proc.communicate(timeout=30)
        seconds = time.monotonic() - t0
        srv.release()
        assert proc.returncode == code and seconds < 5, (seconds, stderr)
        assert stderr.strip().splitlines()[-1] == "interrupted: run the same command again to resume", stderr
        assert "Traceback" not in stderr and "never retrieved" not in stderr, stderr
        assert Manifest.read(tmp_path / "out" / "selfinstruct") is None
        answered = srv.answered
        srv.hold_after = None
        rerun = subprocess.run([sys.executable, "-m", "builder.cli", "run", "selfinstruct", "-c", str(cfg)], cwd=ROOT,
                               capture_output=True, text=True, env={**os.environ, **env_key})
        assert rerun.returncode == 0, rerun.stderr
        m = Manifest.read(tmp_path / "out" / "selfinstruct")
        assert m.counters["llm_cached"] == 5 and srv.answered - answered == m.counters["chunks"] - 5  # nothing paid twice


# -- exit codes that tell the truth ------------------------------------------------------------------------------
def test_a_missing_source_makes_the_build_partial_and_exit_3(tmp_path, make_build, cli):
    write_docs(tmp_path, 3)
    cfg = make_build(SOURCES + '\n[[corpus.sources]]\nname = "gone"\npath = "nowhere"\n')
    r = cli("run", "corpus", "-c", cfg)
    assert r.code == 3, r
    assert "partial: corpus: source 'gone': folder not found" in r.err and "--allow-partial" in r.err
    assert data(tmp_path / "out").height == 3  # the rest was built
    assert "missing_source" in rejected(tmp_path / "out")["reason"].to_list()
    # still partial on the next run, which has nothing to do
    assert cli("run", "corpus", "-c", cfg).code == 3
    assert cli("run", "corpus", "-c", cfg, "--allow-partial").code == 0
    cfg.write_text(cfg.read_text().replace('[build]\n', '[build]\nallow_partial = ["corpus"]\n'))
    r = cli("run", "corpus", "-c", cfg)
    assert r.code == 0 and "partial (allowed): corpus: source 'gone'" in r.out


def test_an_include_that_matches_nothing_is_a_missing_source(tmp_path, make_build, cli):
    write_docs(tmp_path, 2)
    r = cli("run", "corpus", "-c", make_build(SOURCES.replace('path = "docs"', 'path = "docs"\ninclude = ["**/*.pdf"]')))
    assert r.code == 3 and "no file in" in r.err and "matches include ['**/*.pdf']" in r.err, r


def test_run_all_with_zero_documents_is_partial_not_a_crash(tmp_path, make_build, cli):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "english.txt").write_text("Only English text here, nothing a Chinese corpus keeps. " * 20, encoding="utf-8")
    r = cli("run", "all", "-c", make_build(SOURCES))
    assert r.code == 3, r
    assert "internal" not in r.err and "partial: corpus: kept 0 of 1 input documents" in r.err


# -- fault isolation ---------------------------------------------------------------------------------------------
def _explode(item):
    if item == 3:
        raise ValueError("bad item")
    return item * 10


def _die(item):
    if item == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return item * 10


def _hang(item):
    if item == 2:
        time.sleep(60)
    return item


@pytest.mark.parametrize("workers", [1, 2])
def test_an_exception_in_one_item_comes_back_as_its_failure(workers):
    out = list(run_tasks(_explode, range(6), workers=workers, batch_size=4, on_error=lambda f: f))
    assert [o for o in out if not isinstance(o, TaskFailed)] == [0, 10, 20, 40, 50]
    failed = out[3]
    assert isinstance(failed, TaskFailed) and failed.item == 3 and failed.kind == "internal_error"
    assert failed.detail.startswith("ValueError: bad item")
    with pytest.raises(TaskError, match="bad item"):
        list(run_tasks(_explode, range(6), workers=workers, batch_size=4))


def test_a_worker_killed_mid_batch_costs_only_its_culprit():
    out = list(run_tasks(_die, range(12), workers=2, batch_size=8, on_error=lambda f: f))
    assert [o for o in out if not isinstance(o, TaskFailed)] == [i * 10 for i in range(12) if i != 5]
    assert isinstance(out[5], TaskFailed) and out[5].kind == "worker_died"


@pytest.mark.parametrize("workers", [1, 2])
def test_an_item_past_the_timeout_is_stopped_and_rejected(workers):
    t0 = time.monotonic()
    out = list(run_tasks(_hang, range(4), workers=workers, batch_size=4, timeout=0.5, on_error=lambda f: f))
    assert time.monotonic() - t0 < 15
    assert [o for o in out if not isinstance(o, TaskFailed)] == [0, 1, 3]
    assert out[2].kind == "timeout"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_pdf_raising_an_unexpected_pypdf_error_rejects_that_file_only(tmp_path, make_build, cli, monkeypatch, workers):
    import pypdf

    write_docs(tmp_path, 3)
    shutil.copy(next(DEMO.rglob("*.pdf")), tmp_path / "docs" / "report.pdf")

    def broken(*args, **kwargs):
        raise pypdf.errors.DependencyError("a codec this PDF needs is not installed")

    monkeypatch.setattr(pypdf, "PdfReader", broken)
    r = cli("run", "corpus", "-c", make_build(SOURCES, workers=workers))
    assert r.code == 0, r
    rej = rejected(tmp_path / "out")
    row = rej.filter(pl.col("path") == "docs/report.pdf").row(0, named=True)
    assert row["reason"] == "internal_error" and "DependencyError: a codec this PDF needs" in row["detail"]
    assert data(tmp_path / "out").height == 3


def test_a_file_that_kills_its_worker_is_rejected_and_the_rest_is_kept(tmp_path, make_build, cli, monkeypatch):
    from builder.stages.corpus import extract

    write_docs(tmp_path, 30)
    (tmp_path / "docs" / "poison.txt").write_text("毒", encoding="utf-8")
    real = extract.READERS["txt"]

    def reader(data, encoding):
        if data.decode("utf-8", "replace") == "毒":
            os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer or a segfault in C does
        return real(data, encoding)

    monkeypatch.setitem(extract.READERS, "txt", reader)
    r = cli("run", "corpus", "-c", make_build(SOURCES, workers=2))
    assert r.code == 0, r
    rej = rejected(tmp_path / "out")
    assert rej.filter(pl.col("path") == "docs/poison.txt")["reason"].to_list() == ["worker_died"]
    assert data(tmp_path / "out").height == 30


def test_walking_problems_are_counted_rejects(tmp_path, make_build, cli):
    docs = write_docs(tmp_path, 2)
    (docs / "sub").mkdir()
    (docs / "sub" / "loop").symlink_to(docs, target_is_directory=True)  # a loop back to the source folder
    (docs / "dangling.txt").symlink_to(tmp_path / "not-there.txt")
    r = cli("run", "corpus", "-c", make_build(SOURCES))
    assert r.code == 0, r
    reasons = dict(zip(rejected(tmp_path / "out")["path"], rejected(tmp_path / "out")["reason"]))
    assert reasons["docs/sub/loop"] == "symlink_loop" and reasons["docs/dangling.txt"] == "dangling_link"
    assert data(tmp_path / "out").height == 2


# -- LLM endpoints that fail -------------------------------------------------------------------------------------
def _llm_build(tmp_path: Path, url: str, n_docs: int = 4) -> Path:
    """A build whose corpus is ``n_docs`` text files and whose [llm] is ``url``: the whole chain runs by the CLI."""
    from test_selfinstruct import doc_text, toml_table

    docs = tmp_path / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        (docs / f"d{i}.txt").write_text(f"运营经验第{i}篇\n\n" + doc_text(i), encoding="utf-8")
    llm = {"base_url": url, "model": "fake-model", "api_key_env": "FAKE_LLM_KEY", "concurrency": 4, "timeout": 2.0,
           "max_retries": 2, "backoff_base": 0.05, "backoff_max": 2.0}
    si = {"chunk_tokens": 300, "items_per_request": 4, "answer_min_chars": 10}
    cfg = tmp_path / "build.toml"
    cfg.write_text(f'[build]\nname = "t"\noutput = "out"\nworkers = 1\n\n[[corpus.sources]]\nname = "files"\npath = "docs"\n\n'
                   f'[corpus.clean]\nmax_dup_ngram_ratio = 1.0\n\n[dedup]\nexact = false\nnear = false\n\n[llm]\n{toml_table(llm)}\n\n[selfinstruct]\n{toml_table(si)}\n', encoding="utf-8")
    return cfg


def test_a_closed_port_fails_fast_exits_non_zero_and_is_retried_next_run(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-test-key")
    port = free_port()
    cfg = _llm_build(tmp_path, f"http://127.0.0.1:{port}/v1")
    t0 = time.monotonic()
    r = cli("run", "selfinstruct", "-c", cfg)
    assert time.monotonic() - t0 < 15
    assert r.code == 1 and "cannot connect" in r.err and "base_url" in r.err and r.err.count("\n") == 1, r
    assert Manifest.read(tmp_path / "out" / "selfinstruct") is None
    with FakeOpenAI(port=port) as srv:
        r = cli("run", "selfinstruct", "-c", cfg)
        assert r.code == 0, r
        assert srv.answered > 0
    assert pl.read_parquet(tmp_path / "out" / "selfinstruct" / "data").height > 0


def test_an_html_page_says_base_url_is_wrong(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-test-key")
    with FakeOpenAI([html_page()]) as srv:
        r = cli("run", "selfinstruct", "-c", _llm_build(tmp_path, srv.url))
        assert srv.hits <= 8
    assert r.code == 1 and "the endpoint returned HTML, not JSON" in r.err and "is base_url right?" in r.err, r


def test_failed_requests_make_the_stage_partial_and_only_they_are_sent_again(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-test-key")
    broken = {"on": True}

    def script(body, n):
        if broken["on"] and "第1篇" in str(body["messages"]):
            return Reply(status=501, error="not implemented")  # not retried: 501 fails at once
        return Reply(to_json(grounded_items(body)))

    with FakeOpenAI(script) as srv:
        cfg = _llm_build(tmp_path, srv.url)
        r = cli("run", "selfinstruct", "-c", cfg)
        assert r.code == 3 and "requests failed (http_501" in r.err and "the next run retries them" in r.err, r
        m = Manifest.read(tmp_path / "out" / "selfinstruct")
        failed, answered = m.counters["failed_http_501"], srv.answered
        assert failed >= 1 and m.rerun and srv.hits == answered + failed  # no retries of a 501
        broken["on"] = False
        r = cli("run", "selfinstruct", "-c", cfg)
        assert "selfinstruct: running (the last run was partial" in r.out and r.code == 0, r
        assert srv.answered == answered + failed  # only the failed ones were sent again
    assert "selfinstruct: up to date" in cli("run", "selfinstruct", "-c", cfg).out


def test_a_reply_that_stayed_invalid_is_asked_again_next_run_not_served_from_the_cache(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-test-key")
    garbage = {"on": True}

    def script(body, n):
        return Reply("服务繁忙，请稍后再试") if garbage["on"] else Reply(to_json(grounded_items(body)))

    with FakeOpenAI(script) as srv:
        cfg = _llm_build(tmp_path, srv.url)
        r = cli("run", "selfinstruct", "-c", cfg)
        assert r.code == 3 and "partial: selfinstruct: kept 0 of" in r.err, r  # replies came, none usable
        m = Manifest.read(tmp_path / "out" / "selfinstruct")
        assert m.rows["data"] == 0 and srv.answered == 2 * m.counters["chunks"]  # each asked, then re-asked
        garbage["on"] = False
        assert cli("run", "selfinstruct", "-c", cfg, "--force").code == 0
        m = Manifest.read(tmp_path / "out" / "selfinstruct")
        assert m.rows["data"] > 0 and m.counters.get("llm_cached", 0) == 0


def test_the_endpoint_is_in_the_cache_key_and_the_fingerprint_but_the_key_is_not(tmp_path, monkeypatch):
    from builder.llm import LLMClient, LLMSettings

    msgs = [{"role": "user", "content": "你好"}]
    a = LLMClient(LLMSettings(base_url="https://a.example/v1", model="m"))
    b = LLMClient(LLMSettings(base_url="https://b.example/v1", model="m"))
    c = LLMClient(LLMSettings(base_url="https://a.example/v1", model="m"), api_key="sk-another")
    assert a.key_for(msgs) != b.key_for(msgs) and a.key_for(msgs) == c.key_for(msgs)
    monkeypatch.delenv("FAKE_LLM_KEY", raising=False)
    build = load_config(_llm_build(tmp_path / "x", "https://a.example/v1"))
    stage = pipeline.stage_class("selfinstruct")(build)
    without = stage.config_hash()
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-test-key")
    assert pipeline.stage_class("selfinstruct")(build).config_hash() == without
    other = load_config(_llm_build(tmp_path / "y", "https://b.example/v1"))
    assert pipeline.stage_class("selfinstruct")(other).config_hash() != without


# -- freshness ---------------------------------------------------------------------------------------------------
def test_a_code_change_in_a_shared_module_makes_only_the_stages_using_it_stale(tmp_path, make_build, cli, monkeypatch):
    import builder.manifest as manifest

    code = tmp_path / "code" / "builder"
    shutil.copytree(ROOT / "builder", code, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(manifest, "_PACKAGE_DIR", code)
    manifest.code_fingerprint.cache_clear()
    try:
        write_docs(tmp_path, 3)
        cfg = make_build(SOURCES)
        assert cli("run", "dedup", "-c", cfg).code == 0
        build = load_config(cfg)
        assert {s.name: s.state for s in pipeline.statuses(build, upto="dedup")} == {"corpus": "done", "dedup": "done"}
        minhash = code / "text" / "minhash" / "engine.py"
        minhash.write_text(minhash.read_text(encoding="utf-8") + "\n# a changed MinHash engine\n", encoding="utf-8")
        manifest.code_fingerprint.cache_clear()
        st = {s.name: s for s in pipeline.statuses(build, upto="dedup")}
        assert st["corpus"].state == "done" and (st["dedup"].state, st["dedup"].reason) == ("stale", "code changed")
        rules = code / "text" / "boilerplate_rules.toml"  # the boilerplate rules are a data file, and code all the same
        rules.write_text(rules.read_text(encoding="utf-8") + "\n# a new rule\n", encoding="utf-8")
        manifest.code_fingerprint.cache_clear()
        assert pipeline.statuses(build, upto="corpus")[0].reason == "code changed"
        clean = code / "stages" / "corpus" / "clean.py"
        clean.write_text(clean.read_text(encoding="utf-8") + "\n# a changed cleaning rule\n", encoding="utf-8")
        manifest.code_fingerprint.cache_clear()
        assert pipeline.statuses(build, upto="corpus")[0].reason == "code changed"
    finally:
        manifest.code_fingerprint.cache_clear()


def test_a_deleted_or_altered_shard_is_caught_by_status_and_rebuilt(tmp_path, make_build, cli):
    write_docs(tmp_path, 4)
    cfg = make_build(SOURCES)
    assert cli("run", "corpus", "-c", cfg).code == 0
    shard = tmp_path / "out" / "corpus" / "data" / "part-00000.parquet"
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, other content: only --verify sees it
    shard.write_bytes(bytes(raw))
    assert "up to date" in cli("status", "-c", cfg).out
    r = cli("status", "-c", cfg, "--verify")
    assert "stale" in r.out and "content differs" in r.out.replace("\n", " ").replace("│", " ").replace("  ", " ") or "damaged" in r.out
    shard.unlink()
    r = cli("status", "-c", cfg)
    assert "stale" in r.out and "missing" in r.out, r
    r = cli("run", "corpus", "-c", cfg)
    assert r.code == 0 and "corpus: running (output damaged: data/part-00000.parquet is missing)" in r.out.replace("\n", " "), r
    assert data(tmp_path / "out").height == 4


def test_moving_the_output_folder_keeps_every_stage_up_to_date(tmp_path, cli):
    out, moved = tmp_path / "demo", tmp_path / "moved"
    cfg = tmp_path / "build.toml"
    cfg.write_text((DEMO / "build.toml").read_text(encoding="utf-8").replace('path = "."', f'path = "{DEMO}"'), encoding="utf-8")
    assert cli("run", "all", "-c", cfg, "--output", out).code == 0
    shutil.move(out, moved)
    assert {s.state for s in pipeline.statuses(load_config(cfg, moved))} == {"done"}


# -- writing -----------------------------------------------------------------------------------------------------
def test_a_full_disk_is_a_one_line_error_and_leaves_no_temporary_files(tmp_path, make_build, cli, monkeypatch):
    write_docs(tmp_path, 3)
    cfg = make_build(SOURCES)
    assert cli("run", "corpus", "-c", cfg).code == 0
    before = Manifest.read(tmp_path / "out" / "corpus")

    def full(self, path, **kwargs):
        Path(path).write_bytes(b"PAR1 half a shard")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    r = cli("run", "corpus", "-c", cfg, "--force")
    assert r.code == 1 and "the disk is full" in r.err and r.err.count("\n") == 1 and "internal" not in r.err, r
    leftovers = [p for p in (tmp_path / "out").rglob("*") if ".tmp" in p.name or p.parent.name == ".tmp"]
    assert not leftovers, leftovers
    assert Manifest.read(tmp_path / "out" / "corpus").output == before.output


def test_bad_values_are_refused_before_a_stage_starts(tmp_path, make_build, cli):
    write_docs(tmp_path, 1)
    r = cli("run", "corpus", "-c", make_build(SOURCES + 'encoding = "klingon-8"\n'))
    assert r.code == 1 and "must be 'auto' or a known text encoding, got \"klingon-8\"" in r.err and r.err.count("\n") == 1, r
    assert not (tmp_path / "out" / "corpus").exists()
    r = cli("contamination", tmp_path / "eval.jsonl", "-c", make_build(SOURCES), "--threshold", "5")
    assert r.code == 2 and "--threshold" in r.err and "internal" not in r.err, r


def test_an_exception_while_making_one_articles_items_rejects_that_article_only(tmp_path, make_build, cli, monkeypatch):
    import builder.stages.templates as templates

    docs = tmp_path / "docs"
    docs.mkdir()
    for f in sorted((DEMO / "news").glob("*.txt"))[:4]:  # four different articles (dedup keeps them all)
        shutil.copy(f, docs / f.name)
    victim = f"docs/{sorted(p.name for p in docs.iterdir())[2]}"
    cfg = make_build(SOURCES)
    assert cli("run", "dedup", "-c", cfg).code == 0
    real = templates.process_document

    def flaky(task):
        doc, _setup = task
        if doc["path"] == victim:
            raise KeyError("a derivation bug")
        return real(task)

    monkeypatch.setattr(templates, "process_document", flaky)
    r = cli("run", "templates", "-c", cfg)
    assert r.code in (0, 3), r  # 3: items that need a model were skipped (no endpoint)
    rej = rejected(tmp_path / "out", "templates").filter(pl.col("reason") == "internal_error")
    assert rej["path"].to_list() == [victim] and "KeyError: 'a derivation bug'" in rej["detail"][0]
    made = pl.read_parquet(tmp_path / "out" / "templates" / "data")
    victim_id = data(tmp_path / "out", "dedup").filter(pl.col("path") == victim)["id"][0]
    assert made.height > 0 and victim_id not in set(made["source_id"]) and made["source_id"].n_unique() == 3


def test_ctrl_c_in_dedup_stops_its_worker_pool_promptly(tmp_path, make_build, cli):
    docs = tmp_path / "docs"
    docs.mkdir()
    sentences = [s for f in sorted((DEMO / "news").glob("*.txt")) for s in f.read_text(encoding="utf-8").split("。") if len(s) > 12]
    for i in range(8000):  # distinct texts made of real sentences, so the sketching takes a while
        (docs / f"d{i:05d}.txt").write_text(f"第{i}号稿件\n\n" + "。".join(sentences[(i * 7 + k) % len(sentences)] for k in range(12)) + "。",
                                             encoding="utf-8")
    cfg = make_build(SOURCES, workers=2)
    assert cli("run", "corpus", "-c", cfg).code in (0, 3)
    proc = spawn(cfg, "dedup")
    out = tmp_path / "out"
    wait_for(lambda: (out / ".tmp" / "dedup-forms").exists() and len(psutil.Process(proc.pid).children()) >= 2, proc=proc)
    workers = psutil.Process(proc.pid).children(recursive=True)
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and time.monotonic() - t0 < 5, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted: run the same command again to resume" and "Traceback" not in stderr
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive and Manifest.read(out / "dedup") is None


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_workers_keep_their_heap_for_batch_temporaries():
    import ctypes

    from builder.workers import keep_heap

    assert keep_heap()
    # the threshold took: a 4 MB block now comes from the heap, not from its own mmap (glibc marks those with bit 2)
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    p = libc.malloc(4 << 20)
    size_field = ctypes.c_size_t.from_address(p - ctypes.sizeof(ctypes.c_size_t)).value
    libc.free(ctypes.c_void_p(p))
    assert not size_field & 2
