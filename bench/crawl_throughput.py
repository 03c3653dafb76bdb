"""Crawl throughput against a local server that answers every request after 100 ms.

Sixteen "hosts" are sixteen loopback addresses (127.0.0.1 ... 127.0.0.16, all local on Linux), each
with its own threaded HTTP server in a separate process. Every page links to the next pages of its
own host, so the crawler always has work on every host. Politeness stays on: one request at a time
per host (and, in the second table, 100 ms between two requests to a host), robots.txt fetched first.

The bound for ``concurrency`` c with latency L is c / L requests/s (160/s for c = 16), lowered by
politeness to hosts / (L + per_host_delay) when that is smaller. Rates are measured over the crawl
phase (first request to last recorded fetch, from the crawl database), not the extraction that
follows; requests/s also counts the 16 robots.txt requests, which are requests but not pages.

    python bench/crawl_throughput.py            # ~30 s
"""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out" / "crawl_throughput"
LATENCY = 0.1
HOSTS = 16
PARA = "本市今天召开新闻发布会，介绍了城市更新和公共服务的最新进展。有关部门表示，将继续推进老旧小区改造，完善社区养老和托育设施，让居民生活更加便利。"


def serve(port: int, ready) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):  # noqa: N802
            time.sleep(LATENCY)
            if self.path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            else:
                n = int(self.path.rsplit("/", 1)[-1].split(".")[0] or 0)
                links = "".join(f'<a href="/p/{n * 3 + k}.html">下一篇 {n * 3 + k}</a> ' for k in (1, 2, 3))
                body = (f"<html><head><meta charset='utf-8'><title>第{n}号新闻</title></head><body><article><h1>第{n}号新闻</h1>"
                        f"<p>{PARA}</p><p>{PARA[::-1]}</p></article><nav>{links}</nav></body></html>").encode()
                ctype = "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def handle_error(self, *a):
            pass

    servers = [Server((f"127.0.0.{i + 1}", port), Handler) for i in range(HOSTS)]
    import threading

    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    ready.set()
    while True:
        time.sleep(3600)


def crawl(port: int, concurrency: int, max_pages: int, delay: float, tag: str) -> tuple[float, int]:
    from builder.config import load_config
    from builder.pipeline import execute

    folder = OUT / tag
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    seeds = ", ".join(f'"http://127.0.0.{i + 1}:{port}/p/0.html"' for i in range(HOSTS))
    cfg = folder / "build.toml"
    cfg.write_text(f"""
[build]
name = "crawlbench"
output = "out"
[corpus.crawl]
seeds = [{seeds}]
allowed_domains = [{", ".join(f'"127.0.0.{i + 1}"' for i in range(HOSTS))}]
max_pages = {max_pages}
max_depth = 50
concurrency = {concurrency}
per_host_delay = {delay}
timeout = 10
""", encoding="utf-8")
    build = load_config(cfg)
    execute(build, "corpus")
    db = sqlite3.connect(build.output / ".cache" / "corpus" / "crawl.sqlite")
    # the crawl phase: from the first request (first robots.txt answer minus its latency) to the last page
    first_robots, robots = db.execute("SELECT min(fetched_at), count(*) FROM robots").fetchone()
    n, last = db.execute("SELECT count(*), max(fetched_at) FROM fetches WHERE kind='page' AND outcome='ok'").fetchone()
    seconds = last - (first_robots - LATENCY)
    return n / seconds, n, (n + robots) / seconds


def main() -> None:
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = ctx.Process(target=serve, args=(port, ready), daemon=True)
    proc.start()
    ready.wait(30)
    try:
        print(f"server: {HOSTS} hosts (127.0.0.1-{HOSTS}:{port}), every answer after {LATENCY * 1000:.0f} ms\n")
        rows = []
        for delay in (0.0, 0.1):
            per_host_bound = HOSTS / (LATENCY + delay)
            for c, pages in ((1, 60), (4, 200), (16, 600)):
                rate, n, reqs = crawl(port, c, pages, delay, f"c{c}-d{delay}")
                bound = min(c / LATENCY, per_host_bound)
                rows.append((delay, c, n, rate, bound))
                print(f"per_host_delay {delay:.1f}s  concurrency {c:2d}: {n:4d} pages, {rate:6.1f} pages/s "
                      f"({reqs:6.1f} requests/s with robots.txt), bound {bound:5.1f}/s: "
                      f"{rate / bound:5.1%} of bound in pages, {reqs / bound:5.1%} in requests", flush=True)
        for delay in (0.0, 0.1):
            r1 = next(r for r in rows if r[0] == delay and r[1] == 1)
            r16 = next(r for r in rows if r[0] == delay and r[1] == 16)
            print(f"per_host_delay {delay:.1f}s: concurrency 16 / concurrency 1 = {r16[3] / r1[3]:.1f}x "
                  f"(ideal {r16[4] / r1[4]:.1f}x)")
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
