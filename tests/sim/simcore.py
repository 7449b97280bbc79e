"""simcore.py — what every vendor simulator shares: a threaded HTTP(S) server
on loopback that writes its port to a file, JSON helpers, a control API
(/_control/...) to seed state, read counters and inject faults, and the
fault machinery itself: status codes, 429 with Retry-After at a rate,
connection reset, slow answers, garbage/truncated/huge/deeply nested
bodies, and an answer lost after the change was applied."""

import abc
import argparse
import json
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Reset(Exception):
    """Raised to drop the connection without an answer."""


class Sim(abc.ABC):
    """State shared by the handler threads; each vendor subclass must define
    seed() and route(), or it cannot be instantiated."""

    def __init__(self):
        self.lock = threading.RLock()
        self.faults = []          # dicts: kind, path (regex), method, count, status, ...
        self.stats = {"requests": 0, "throttled": 0, "writes": 0, "by_route": {}}
        self.writes = {}          # per user id: applied changes
        self.received = []        # for receivers: what arrived

    def count_write(self, key):
        with self.lock:
            self.writes[key] = self.writes.get(key, 0) + 1
            self.stats["writes"] += 1

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.get("count", 1) <= 0:
                    continue
                if f.get("method") and f["method"] != method:
                    continue
                if f.get("path") and not re.search(f["path"], path):
                    continue
                if "rate" in f and f.get("_rng", random).random() >= f["rate"]:
                    continue
                if "count" in f:
                    f["count"] -= 1
                return dict(f)
        return None

    def control(self, h, method, path, body):
        if path == "/_control/faults" and method == "POST":
            with self.lock:
                if "seed" in body:  # a reproducible "random" fault sequence
                    body["_rng"] = random.Random(body["seed"])
                self.faults.append(body)
            return h.send_json(200, {"ok": True})
        if path == "/_control/faults" and method == "DELETE":
            with self.lock:
                self.faults.clear()
            return h.send_json(200, {"ok": True})
        if path == "/_control/stats":
            with self.lock:
                return h.send_json(200, {"stats": self.stats, "writes": self.writes,
                                         "received": self.received})
        if path == "/_control/state" and method == "POST":
            with self.lock:
                self.seed(body)
            return h.send_json(200, {"ok": True})
        if path == "/_control/state":
            with self.lock:
                return h.send_json(200, self.dump())
        return h.send_json(404, {"error": "unknown control path"})

    # Subclasses:
    @abc.abstractmethod
    def seed(self, body):
        """Replaces the vendor state with the one described by body."""

    def dump(self):
        return {}

    @abc.abstractmethod
    def route(self, h, method, path, query, body_bytes):
        """Answers one request the way the vendor would."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim = None  # set by serve()

    def setup(self):
        super().setup()
        # http.server sends an answer in several writes: with Nagle and the
        # client's delayed ACK each kept-alive request waited ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet; the tests read counters instead
        pass

    def send_json(self, status, obj, headers=None, content_type="application/json"):
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_raw(status, data, headers, content_type if data else None)

    def send_raw(self, status, data, headers=None, content_type=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def reset(self):
        # RST instead of FIN: the client sees "connection reset".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        raise Reset()

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        method = self.command
        try:
            if path.startswith("/_control/"):
                try:
                    ctl = json.loads(body) if body else {}
                except ValueError:
                    ctl = {}
                return self.sim.control(self, method, path, ctl)
            with self.sim.lock:
                self.sim.stats["requests"] += 1
            fault = self.sim.take_fault(method, path)
            if fault and self.apply_fault(fault, before=True):
                return
            if fault and fault["kind"] == "lost":
                self.sim.route(SilentHandler(self), method, path, query, body)
                self.reset()
            self.sim.route(self, method, path, query, body)
        except Reset:
            return

    def apply_fault(self, f, before):
        kind = f["kind"]
        if kind == "status":
            hdrs = {"Retry-After": str(f["retry_after"])} if "retry_after" in f else None
            if f["status"] == 429:
                with self.sim.lock:
                    self.sim.stats["throttled"] += 1
            self.send_json(f["status"], f.get("body", {"error": {"code": "injected", "message": "injected fault"}}), hdrs)
            return True
        if kind == "reset":
            self.reset()
        if kind == "slow":
            time.sleep(f.get("delay", 2))
            return False
        if kind == "garbage":
            self.send_raw(200, b"<html><body>502 Bad Gateway</body></html>", None, "text/html")
            return True
        if kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "400")
            self.end_headers()
            self.wfile.write(b'{"id": "cut-off", "assignedLic')
            self.wfile.flush()
            self.reset()
        if kind == "huge":
            self.send_raw(200, b'{"pad": "' + b"x" * int(f.get("bytes", 8 << 20)) + b'"}', None, "application/json")
            return True
        if kind == "nested":  # depth '[' then depth ']' (2,000,000: 4 MB, under the client's cap)
            n = int(f.get("depth", 2_000_000))
            self.send_raw(int(f.get("status", 200)), b"[" * n + b"]" * n, None, "application/json")
            return True
        if kind == "types":
            self.send_json(200, f.get("body", {"id": 42, "assignedLicenses": "none"}))
            return True
        return False

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = handle_any


class SilentHandler:
    """Runs a route for its effect only (the 'lost answer' fault)."""

    def __init__(self, real):
        self.headers = real.headers
        self.command = real.command

    def send_json(self, *a, **k):
        pass

    def send_raw(self, *a, **k):
        pass


def bearer(h):
    auth = h.headers.get("Authorization", "")
    return auth[7:] if auth.startswith("Bearer ") else None


def serve(sim, description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port-file", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--state", help="JSON file to seed the state from")
    a = p.parse_args()
    if a.state:
        with open(a.state) as f:
            sim.seed(json.load(f))
    Handler.sim = sim
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    sys.exit(0)
