"""Throughput and memory of the whole selfinstruct stage (chunks in, parquet out) against a 200 ms endpoint,
side by side with distilabel on the same server and the same prompts, in one run.

    python bench/selfinstruct_throughput.py              # concurrency 1/8/32 (30 rounds each), memory at 1,000 and 10,000
    python bench/selfinstruct_throughput.py --quick      # 10 rounds, memory at 500 and 2,000
    python bench/selfinstruct_throughput.py --rounds 300 # steady state: 60 s of ideal time per concurrency
    python bench/selfinstruct_throughput.py --no-peer    # without distilabel (pip install -e .[bench] for it)

The endpoint is tests/fake_openai.py in its own process, answering after 200 ms with the real recorded
replies of ../shared/realdata/llm_replies when that folder exists (10-13 items each, bare arrays: parsing,
filters and records cost what they cost on real output), else with made-up items. For each concurrency c the
bound is c / 0.2 s requests per second; "share" is requests/s over the bound. builder is timed from
``pipeline.execute(build, "selfinstruct")`` to its return (documents read, chunked, sent, every reply
recorded and filtered, duplicates removed, parquet written and swapped into place); distilabel from
``Pipeline.run`` to its return, with ``ChatGeneration`` over ``OpenAILLM`` at ``input_batch_size = c`` (its
concurrency), the same messages and no parsing at all. Imports are paid before timing, for both, and each
system makes one untimed warm-up run of 2 requests first (a process's first run pays once for what later
runs reuse: builder fingerprints its own code, about 0.4 s; distilabel sets up its pipeline machinery).
Absolute numbers move with the machine's load (other processes share the 2 cores): compare the ratios of
one run. Below the table, the CPU each request cost: the stage's process, its recorder workers and the
endpoint, against the 2 cores' budget.

Memory: a fresh process runs the whole stage over N requests at concurrency 64 and reports its peak RSS
(and its recorder process's), for two N: flat means the larger run does not need more.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
REPLIES = ROOT.parent / "shared" / "realdata" / "llm_replies"
LATENCY = 0.2
KEY_ENV = "BENCH_LLM_KEY"

CITIES = ["杭州", "成都", "西安", "长沙", "厦门", "青岛", "昆明", "南京", "武汉", "苏州", "合肥", "贵阳"]
WORK = ["短视频账号", "直播间", "公众号", "本地生活号", "读书博主", "农产品店铺"]


def doc_text(i: int) -> str:
    """A short article (one chunk at the bench's chunk size); distinct for every i."""
    return "".join(f"第{i}篇第{k}条：{CITIES[(i + k) % 12]}的一个{WORK[(i + 3 * k) % 6]}在第{k % 4 + 1}季度把播放量做到了{(i + 1) * (k + 3)}万。"
                   for k in range(4))


def start_server(replies: bool) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, str(ROOT / "tests" / "fake_openai.py"), "--delay", str(LATENCY)]
    if replies:
        cmd += ["--replies", str(REPLIES)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("READY "), line
    return proc, line.split()[1]


SHARD_ROWS = 5000  # [build] shard_rows' default


def make_build(folder: Path, url: str, n: int, concurrency: int, offset: int = 0):
    import polars as pl

    from builder.config import load_config
    from builder.manifest import Manifest
    from builder.shards import DOCUMENT_SCHEMA, write_parquet

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build.toml").write_text(
        f'[build]\nname = "bench"\noutput = "out"\nworkers = 2\n\n'
        f'[llm]\nbase_url = "{url}"\nmodel = "fake-model"\napi_key_env = "{KEY_ENV}"\nconcurrency = {concurrency}\n'
        f'timeout = 60\nmax_retries = 2\n\n[selfinstruct]\nchunk_tokens = 300\nanswer_max_chars = 2000\nanswer_min_chars = 5\n',
        encoding="utf-8")
    build = load_config(folder / "build.toml")
    d = build.output / "dedup"
    # shards of 5,000 rows, made one at a time, as the dedup stage writes them: one file of n rows (the earlier
    # shape) put the whole input in memory twice, here and where the stage reads it, and the peak grew with n
    for k, start in enumerate(range(0, n, SHARD_ROWS)):
        rows = [{"id": f"doc{offset + i:06d}", "source": "bench", "path": f"d{i}.txt", "title": f"运营经验第{offset + i}篇",
                 "text": doc_text(offset + i), "published": None, "author": None, "format": "txt", "meta": "{}"}
                for i in range(start, min(n, start + SHARD_ROWS))]
        write_parquet(pl.DataFrame(rows, schema=DOCUMENT_SCHEMA), d / "data" / f"part-{k:05d}.parquet")
    Manifest(stage="dedup", config_hash="bench", inputs={}, output=f"bench-{n}-{offset}", rows={"data": n}).write(d)
    return build


class CPU:
    """CPU seconds spent while a block runs: this process, its finished children (worker pools) and the server."""

    def __init__(self, server_pid: int | None = None):
        self.server_pid = server_pid

    def _now(self) -> tuple[float, float, float]:
        import psutil

        own = time.process_time()
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        server = 0.0
        if self.server_pid:
            t = psutil.Process(self.server_pid).cpu_times()
            server = t.user + t.system
        return own, kids.ru_utime + kids.ru_stime, server

    def __enter__(self) -> "CPU":
        self._start = self._now()
        return self

    def __exit__(self, *exc) -> None:
        end = self._now()
        self.main, self.workers, self.server = (b - a for a, b in zip(self._start, end))


def run_builder(folder: Path, url: str, n: int, concurrency: int, offset: int, server_pid: int | None = None) -> tuple[float, int, dict, CPU]:
    from builder import pipeline

    build = make_build(folder, url, n, concurrency, offset)
    with CPU(server_pid) as cpu:
        t0 = time.perf_counter()
        m = pipeline.execute(build, "selfinstruct")
        took = time.perf_counter() - t0
    return took, m.counters.get("llm_requests", 0), dict(m.counters), cpu


def prompts_for(folder: Path, url: str, n: int, offset: int) -> list[list[dict]]:
    """The messages builder sends for the same documents (so the peer gets the same prompts)."""
    from builder.stages.selfinstruct import SelfInstructStage
    from builder.stages.selfinstruct.chunks import chunk_documents

    build = make_build(folder, url, n, 1, offset)
    stage = SelfInstructStage(build)
    import polars as pl

    docs = pl.read_parquet(build.output / "dedup" / "data").to_dicts()
    return [stage.prompt.messages(c) for c in chunk_documents(docs, stage.settings["chunk_tokens"])]


def run_distilabel(folder: Path, url: str, messages: list[list[dict]], concurrency: int) -> float:
    from distilabel.models import OpenAILLM
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import ChatGeneration

    with Pipeline(name=f"bench-{concurrency}-{len(messages)}", cache_dir=str(folder / "distilabel-cache")) as pipe:
        load = LoadDataFromDicts(data=[{"messages": m} for m in messages], batch_size=max(concurrency, 50))
        gen = ChatGeneration(llm=OpenAILLM(model="fake-model", base_url=url, api_key="bench", max_retries=0, timeout=60),
                             input_batch_size=concurrency)
        load >> gen
    t0 = time.perf_counter()
    distiset = pipe.run(use_cache=False)
    took = time.perf_counter() - t0
    rows = distiset["default"]["train"]
    assert len(rows) == len(messages) and all(r["generation"] for r in rows), "distilabel lost replies"
    return took


def own_peak_rss() -> int:
    """This process's peak RSS in bytes since it started its program. Linux's ``ru_maxrss`` carries the peak of the
    process it was forked from across exec (the bench's own, with every earlier run in it); ``VmHWM`` does not."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_child(url: str, n: int, concurrency: int) -> None:
    """In a fresh process: the whole stage over n requests; peak RSS of this process and of its children."""
    import psutil

    from builder import pipeline  # noqa: F401 - imports count in the baseline
    import aiohttp  # noqa: F401
    import scipy.sparse  # noqa: F401

    import builder.stages.selfinstruct  # noqa: F401

    base = psutil.Process().memory_info().rss
    with tempfile.TemporaryDirectory() as d:
        took, requests, counters, _ = run_builder(Path(d), url, n, concurrency, offset=500000)
    peak = own_peak_rss()
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"n": n, "requests": requests, "kept": counters.get("kept", 0), "seconds": took,
                      "rss_after_imports_mb": base / 2**20, "peak_rss_mb": peak / 2**20, "recorder_peak_rss_mb": child / 2**20}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds of c requests at each concurrency c (default 30; 10 with --quick). 300 rounds run each "
                         "concurrency for 60 s of ideal time (9,600 requests at 32), where a run's fixed start and finish "
                         "(~0.3 s) weigh 0.5% instead of 5%")
    ap.add_argument("--no-peer", action="store_true", help="skip distilabel")
    ap.add_argument("--made-up", action="store_true", help="answer with made-up items even when the real replies are there")
    ap.add_argument("--memory", type=int, nargs="+", metavar="N", help="request counts of the memory runs (default 1000 10000)")
    ap.add_argument("--memory-only", action="store_true", help="skip the throughput runs")
    ap.add_argument("--memory-child", nargs=3, metavar=("URL", "N", "CONCURRENCY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault(KEY_ENV, "bench-key")
    os.environ.setdefault("DISTILABEL_LOG_LEVEL", "ERROR")  # its per-request log lines would cost it CPU and flood the output
    if args.memory_child:
        url, n, c = args.memory_child
        memory_child(url, int(n), int(c))
        return
    real = REPLIES.is_dir() and not args.made_up
    server, url = start_server(real)
    peer = not args.no_peer
    if peer:
        try:
            import distilabel  # noqa: F401
        except ImportError:
            print("distilabel is not installed (pip install -e .[bench]): the peer is skipped")
            peer = False
    import aiohttp  # noqa: F401 - imports paid before timing: builder's HTTP client, the duplicate check's sparse matrices
    import scipy.sparse  # noqa: F401

    import builder.stages.selfinstruct  # noqa: F401
    from builder.text.tokens import count_tokens

    count_tokens("预热")  # tiktoken's tables load once
    rounds = args.rounds or (10 if args.quick else 30)
    rows = []
    offset = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_builder(Path(tmp) / "warm", url, 2, 1, 900000)
            if peer:
                run_distilabel(Path(tmp) / "dwarm", url, prompts_for(Path(tmp) / "pwarm", url, 2, 950000), 1)
            for c in (() if args.memory_only else (1, 8, 32)):
                n = max(15, c * rounds)
                bound = c / LATENCY
                took, requests, counters, cpu = run_builder(Path(tmp) / f"b{c}", url, n, c, offset, server.pid)
                row = {"c": c, "n": n, "bound": bound, "builder": requests / took, "builder_requests": requests,
                       "kept": counters.get("kept", 0), "outcomes": {k.removeprefix("request_"): v for k, v in counters.items() if k.startswith("request_")},
                       "cpu": (cpu.main / requests, cpu.workers / requests, cpu.server / requests), "seconds": took, "load": os.getloadavg()[0]}
                if peer:
                    messages = prompts_for(Path(tmp) / f"p{c}", url, n, offset + 100000)
                    with CPU(server.pid) as peer_cpu:
                        row["peer"] = len(messages) / run_distilabel(Path(tmp) / f"d{c}", url, messages, c)
                    row["peer_cpu"] = ((peer_cpu.main + peer_cpu.workers) / len(messages), peer_cpu.server / len(messages))
                rows.append(row)
                offset += 2 * n
                print(f"  c={c}: builder {row['builder']:.1f} req/s" + (f", distilabel {row['peer']:.1f} req/s" if peer else ""), flush=True)
        print(f"\nfake endpoint: {LATENCY * 1000:.0f} ms per reply, separate process; replies: "
              f"{'130 real recorded replies (../shared/realdata/llm_replies)' if real else 'made-up items'}\n")
        head = f"{'concurrency':>11} {'requests':>8} {'bound/s':>8} {'builder/s':>9} {'share':>6}"
        if peer:
            head += f" {'distilabel/s':>12} {'share':>6} {'builder/peer':>12}"
        print(head)
        for r in rows:
            line = f"{r['c']:11d} {r['builder_requests']:8d} {r['bound']:8.1f} {r['builder']:9.1f} {r['builder'] / r['bound']:6.1%}"
            if peer:
                line += f" {r['peer']:12.1f} {r['peer'] / r['bound']:6.1%} {r['builder'] / r['peer']:11.2f}x"
            print(line)
        print("builder outcomes: " + "; ".join(f"c={r['c']}: {r['outcomes']}, kept {r['kept']}" for r in rows))
        print("\nCPU per request, ms (the bound's budget on 2 cores at c=32: 2 cores / 160 req/s = 12.5 ms for all processes together)")
        for r in rows:
            m, w, sv = (x * 1000 for x in r["cpu"])
            line = (f"  c={r['c']:<3d} builder: stage process {m:.1f} + recorder workers {w:.1f} = {m + w:.1f}; endpoint {sv:.2f}; "
                    f"run {r['seconds']:.2f} s vs ideal {r['builder_requests'] / r['bound']:.2f} s; load average {r['load']:.1f}")
            if "peer_cpu" in r:
                line += f"; distilabel (all its processes) {r['peer_cpu'][0] * 1000:.1f}, endpoint {r['peer_cpu'][1] * 1000:.2f}"
            print(line)
        print(f"(load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the fake server shares them)")
        for n_mem in args.memory or ((500, 2000) if args.quick else (1000, 10000)):
            out = subprocess.run([sys.executable, __file__, "--memory-child", url, str(n_mem), "64"], capture_output=True, text=True,
                                 cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if out.returncode:
                print(out.stderr[-3000:])
                raise SystemExit(out.returncode)
            mem = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{mem['n']:,} requests (whole stage) at concurrency 64 in {mem['seconds']:.1f} s "
                  f"({mem['requests'] / mem['seconds']:.0f} req/s, bound {64 / LATENCY:.0f}), {mem['kept']:,} items kept: "
                  f"peak RSS {mem['peak_rss_mb']:.0f} MB (after imports {mem['rss_after_imports_mb']:.0f} MB), "
                  f"recorder process {mem['recorder_peak_rss_mb']:.0f} MB")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
