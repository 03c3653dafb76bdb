"""Throughput and memory of the project's LLM client against a fake endpoint that answers after 200 ms.

    python bench/selfinstruct_throughput.py            # full run (~1.5 min)
    python bench/selfinstruct_throughput.py --quick    # smaller counts

The endpoint is tests/fake_openai.py in its own process (so it does not share our GIL). For each
concurrency the bound is concurrency / latency (or the rate limit when lower); the share of it we reach
is the number to watch (target >= 90%). The peer is a sequential loop like the seed's: the openai SDK's
sync client, one request after another. Peak memory is measured in a fresh process that streams 10,000
requests through ``LLMClient.map`` with the SQLite cache on, as the stage does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LATENCY = 0.2
CPU_MS: dict[int, float] = {}  # client CPU per request, by concurrency (-1: the rate-limited run)


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_openai.py"), "--delay", str(delay)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("READY "), line
    return proc, line.split()[1]


def messages(i: int) -> list[dict]:
    return [{"role": "user", "content": f"<材料>第{i}段：某县融媒体中心把短视频发布时间调整到晚上八点，第{i}周播放量明显上升。</材料>"}]


async def ours(url: str, n: int, concurrency: int, rpm: int = 0, cache_dir: str | None = None, tag: int = 0) -> float:
    from builder.llm import ChatRequest, LLMClient, LLMSettings, RequestCache

    settings = LLMSettings(base_url=url, model="fake-model", api_key_env="", concurrency=concurrency, rpm=rpm,
                           response_format="text", timeout=30)
    cache = RequestCache(Path(cache_dir) / "llm.sqlite") if cache_dir else None
    client = LLMClient(settings, cache, api_key="bench")
    reqs = (ChatRequest(messages(i + (tag or concurrency) * 100000), {"temperature": 0}) for i in range(n))  # all distinct
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    done = 0
    async for r in client.map(reqs):
        assert not isinstance(r, Exception), r
        done += 1
    took = time.perf_counter() - t0
    CPU_MS[concurrency if not rpm else -1] = (time.process_time() - cpu0) / n * 1000
    await client.aclose()
    assert done == n
    return took


def sequential(url: str, n: int) -> float:
    import openai

    client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0)
    t0 = time.perf_counter()
    for i in range(n):
        r = client.chat.completions.create(model="fake-model", messages=messages(i), temperature=0)
        assert r.choices[0].message.content
    return time.perf_counter() - t0


def memory_child(url: str, n: int, concurrency: int) -> None:
    """Run in a fresh process: RSS after imports, then peak RSS while n requests stream through."""
    import psutil

    import builder.llm  # noqa: F401 - imports count in the baseline
    import openai  # noqa: F401

    base = psutil.Process().memory_info().rss
    with tempfile.TemporaryDirectory() as d:
        took = asyncio.run(ours(url, n, concurrency, cache_dir=d))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"n": n, "concurrency": concurrency, "seconds": took, "rss_after_imports_mb": base / 2**20,
                      "peak_rss_mb": peak / 2**20}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory-child", nargs=3, metavar=("URL", "N", "CONCURRENCY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        url, n, c = args.memory_child
        memory_child(url, int(n), int(c))
        return
    sys.path.insert(0, str(ROOT))
    server, url = start_server(LATENCY)
    rows = []
    try:
        seq_n = 10 if args.quick else 25
        seq = seq_n / sequential(url, seq_n)
        rows.append(("sequential loop (seed-like, sync SDK)", 0, 1 / LATENCY, seq))
        with tempfile.TemporaryDirectory() as d:
            for c in (1, 8, 32):
                n = max(15, c * (10 if args.quick else 30))
                took = asyncio.run(ours(url, n, c, cache_dir=d))
                rows.append((f"LLMClient concurrency {c}", c, c / LATENCY, n / took))
            rpm = 1800  # 30/s, below 32 / 0.2 s = 160/s
            n = 100 if args.quick else 300
            took = asyncio.run(ours(url, n, 32, rpm=rpm, cache_dir=d, tag=999))
            rows.append((f"LLMClient concurrency 32, rpm {rpm}", -1, min(32 / LATENCY, rpm / 60), n / took))
        print(f"fake endpoint: {LATENCY * 1000:.0f} ms per reply, separate process; cache on (SQLite)\n")
        print(f"{'client':42} {'req/s':>8} {'bound':>8} {'share':>7} {'vs sequential':>14} {'client CPU/req':>15}")
        for name, c, bound, rate in rows:
            cpu = f"{CPU_MS[c]:.1f} ms" if c in CPU_MS else "-"
            print(f"{name:42} {rate:8.1f} {bound:8.1f} {rate / bound:7.1%} {rate / seq:13.1f}x {cpu:>15}")
        print(f"(machine load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the fake server shares them)")
        n_mem = 2000 if args.quick else 10000
        out = subprocess.run([sys.executable, __file__, "--memory-child", url, str(n_mem), "64"], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        mem = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\n{mem['n']:,} requests at concurrency {mem['concurrency']} in {mem['seconds']:.1f} s "
              f"({mem['n'] / mem['seconds']:.0f} req/s, bound {mem['concurrency'] / LATENCY:.0f}): "
              f"peak RSS {mem['peak_rss_mb']:.0f} MB (after imports {mem['rss_after_imports_mb']:.0f} MB)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
