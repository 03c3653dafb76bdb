"""A real OpenAI-compatible chat server on 127.0.0.1 for tests and benches, scripted per test.

The real client code (openai SDK, our retries, limits and cache) talks HTTP to it; nothing is mocked.

    with FakeOpenAI(script) as server:         # server.url -> "http://127.0.0.1:PORT/v1"
        ...
    server.hits       requests received on /v1/chat/completions
    server.answered   200 replies written in full (what a provider would bill)
    server.bodies     the JSON bodies received; server.auth the Authorization headers

A script is None (grounded JSON items made from the <材料> of the prompt), a list of replies used in turn
(the last one repeats), or ``fn(body, hit_number) -> Reply | str``. Helpers build the reply shapes models
really send: :func:`valid`, :func:`fenced`, :func:`chinese_quotes`, :func:`trailing_commas`,
:func:`truncated`, :func:`prose`, :func:`refusal`, :func:`rate_limited`, :func:`server_error`, :func:`slow`.

Run as a program for benches: ``python tests/fake_openai.py --delay 0.2`` prints ``READY <url>``;
``--replies DIR`` answers with recorded replies (:func:`replay`) instead of made-up items.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

TASK_TYPES = ["问答", "摘要", "分析", "抽取", "写作"]


@dataclass
class Reply:
    content: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    param: str | None = None  # the error's "param" field, as OpenAI names the offending parameter
    refusal: str | None = None
    usage: bool = True
    html: str | None = None  # sent as text/html instead of JSON: a web server or proxy page at a wrong base_url


# -- reply shapes -------------------------------------------------------------------------------------
def material(body: dict) -> str:
    """The source text inside <材料>…</材料> of the latest user message holding one (else the last message)."""
    users = [str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user"]
    for text in reversed(users):  # a re-ask's last message has no material: look further back
        start, end = text.rfind("<材料>"), text.rfind("</材料>")
        if 0 <= start < end:
            return text[start + len("<材料>") : end]
    return users[-1] if users else ""


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^。！？\n]{8,}[。！？]", text)]


def grounded_items(body: dict, n: int = 4) -> list[dict]:
    """Items whose answers quote the material, so their grounding score is high; deterministic per request."""
    found = sentences(material(body)) or ["材料内容很短，无法展开。"]
    items = []
    for i, s in enumerate(found[:n]):
        items.append({"task_type": TASK_TYPES[i % len(TASK_TYPES)], "instruction": f"请说明材料中这句话的要点：{s[:14]}",
                      "input": "", "output": f"材料指出：{s}这句话的核心是{s[:10]}。"})
    return items


def to_json(items: list[dict]) -> str:
    return json.dumps({"items": items}, ensure_ascii=False)


def valid(items: list[dict]) -> Reply:
    return Reply(to_json(items))


def fenced(items: list[dict]) -> Reply:
    return Reply(f"好的，以下是生成的指令数据：\n```json\n{json.dumps({'items': items}, ensure_ascii=False, indent=2)}\n```\n希望对你有帮助。")


def chinese_quotes(items: list[dict]) -> Reply:
    text = to_json(items)
    out, opening = [], True
    for ch in text:  # every JSON quote becomes “ or ” in turn, as some models write them
        if ch == '"':
            out.append("“" if opening else "”")
            opening = not opening
        else:
            out.append(ch)
    return Reply("".join(out))


def trailing_commas(items: list[dict]) -> Reply:
    parts = [json.dumps(i, ensure_ascii=False)[:-1] + ",}" for i in items]
    return Reply('{"items": [' + ", ".join(parts) + ",]}")


def truncated(items: list[dict]) -> Reply:
    """The JSON cut inside the last item's output, as when max_tokens runs out."""
    text = to_json(items)
    cut = text.rfind('"output"') + 16
    return Reply(text[:cut], finish_reason="length")


def prose(_items: list[dict] | None = None) -> Reply:
    return Reply("这篇材料讲述了新媒体运营的几个要点，包括选题、标题和发布时间。建议多关注用户反馈。")


def refusal(_items: list[dict] | None = None) -> Reply:
    return Reply("作为一个AI语言模型，我无法根据这些材料生成内容，抱歉。")


def rate_limited(seconds: float = 1) -> Reply:
    return Reply(status=429, headers={"Retry-After": f"{seconds:g}"}, error="Rate limit reached, retry later")


def server_error() -> Reply:
    return Reply(status=500, error="The server had an error while processing your request")


def html_page(status: int = 200) -> Reply:
    """What a web server answers when base_url points at a site, not at an API."""
    return Reply(status=status, html="<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>It works</h1></body></html>")


def replay(texts: list[str]) -> Script:
    """Answer each request with one of ``texts`` (recorded replies of a real model), chosen by a hash of the
    request's material, so the same prompt always gets the same reply."""
    import zlib

    def script(body: dict, _n: int) -> Reply:
        return Reply(texts[zlib.crc32(material(body).encode("utf-8")) % len(texts)])

    return script


def slow(reply: Reply, seconds: float) -> Reply:
    reply.delay = seconds
    return reply


# -- the server -------------------------------------------------------------------------------------------
Script = Callable[[dict, int], "Reply | str"]


class FakeOpenAI:
    def __init__(self, script: Script | list | None = None, delay: float = 0.0, port: int = 0):
        self.script = script
        self.delay = delay
        self.hits = 0
        self.answered = 0
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.inflight = 0
        self.max_inflight = 0
        self.record = True
        self.hold_after: int | None = None  # answer this many requests, then hold the rest (see hold())
        self._reserved = 0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAI":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def hold(self) -> None:
        """Leave new requests unanswered (as a stalled provider would) until :meth:`release`."""
        self._open.clear()

    def release(self) -> None:
        self.hold_after = None
        self._open.set()

    def reply_for(self, body: dict, n: int) -> Reply:
        script = self.script
        if script is None:
            r: Reply | str = valid(grounded_items(body))
        elif callable(script):
            r = script(body, n)
        else:
            r = script[min(n, len(script) - 1)]
        if isinstance(r, str):
            r = Reply(r)
        return r


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connecting at once must not wait for a SYN retry


def _handler(server: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall between them

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            with server._lock:
                n = server.hits
                server.hits += 1
                if server.record:
                    server.bodies.append(body)
                    server.auth.append(self.headers.get("Authorization"))
                server.inflight += 1
                server.max_inflight = max(server.max_inflight, server.inflight)
            try:
                with server._lock:
                    if server.hold_after is not None and server._reserved >= server.hold_after:
                        server._open.clear()
                    elif server._open.is_set():
                        server._reserved += 1
                if not server._open.is_set():
                    server._open.wait()
                    self.close_connection = True  # a held request is never answered
                    return
                reply = server.reply_for(body, n)
                pause = reply.delay or server.delay
                if pause:
                    time.sleep(pause)
                if reply.html is not None:
                    page = reply.html.encode("utf-8")
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                if reply.status != 200:
                    error = {"message": reply.error or "error", "type": "fake", "code": reply.status}
                    if reply.param is not None:
                        error["param"] = reply.param
                    self._send(reply.status, {"error": error}, reply.headers)
                    return
                content = reply.content or ""
                prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
                payload = {
                    "id": f"chatcmpl-fake-{n}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "fake-model"),
                    "choices": [{"index": 0, "finish_reason": reply.finish_reason, "logprobs": None,
                                 "message": {"role": "assistant", "content": content, "refusal": reply.refusal}}],
                }
                if reply.usage:
                    payload["usage"] = {"prompt_tokens": prompt_chars // 2 + 1, "completion_tokens": len(content) // 2 + 1,
                                        "total_tokens": prompt_chars // 2 + len(content) // 2 + 2}
                try:
                    self._send(200, payload, reply.headers)
                except (BrokenPipeError, ConnectionResetError):
                    return
                with server._lock:
                    server.answered += 1
            finally:
                with server._lock:
                    server.inflight -= 1

    return Handler


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="A fake OpenAI-compatible chat server (grounded JSON items).")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--replies", help="a folder of recorded replies (*.json, the reply text each) to answer with, chosen by the material")
    args = ap.parse_args(argv)
    script = None
    if args.replies:
        from pathlib import Path

        script = replay([f.read_text(encoding="utf-8") for f in sorted(Path(args.replies).glob("*.json"))])
    server = FakeOpenAI(script, delay=args.delay, port=args.port)
    server.record = False  # long benches: keep memory flat
    print(f"READY {server.url}", flush=True)
    try:
        server._server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
