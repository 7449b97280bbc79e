#!/usr/bin/env python3
"""webhook_sim.py — a finance/ITSM webhook receiver as a careful integrator
would write it: POST /hooks/<target> with Content-Type application/json and
X-Reclaim-Signature "t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>"; it
refuses a bad or missing signature (401), a timestamp older than the
tolerance (401), a replayed signature (409), and acknowledges a repeated
delivery id (200) without recording it twice."""

import hashlib
import hmac
import json
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import simcore  # noqa: E402


class WebhookSim(simcore.Sim):
    def __init__(self):
        super().__init__()
        self.secret = b""
        self.tolerance = 300
        self.seen_signatures = set()
        self.deliveries = {}

    def seed(self, b):
        self.secret = b.get("secret", "").encode()
        self.tolerance = b.get("tolerance", 300)
        self.received = []
        self.seen_signatures = set()
        self.deliveries = {}
        self.stats = {"requests": 0, "throttled": 0, "writes": 0, "refused": 0, "duplicates": 0}

    def dump(self):
        return {"received": self.received, "stats": self.stats}

    def refuse(self, h, status, why):
        self.stats["refused"] += 1
        return h.send_json(status, {"error": why})

    def route(self, h, method, path, query, body):
        with self.lock:
            if method != "POST" or not path.startswith("/hooks/"):
                return h.send_json(404, {"error": "not found"})
            if not (h.headers.get("Content-Type") or "").startswith("application/json"):
                return self.refuse(h, 415, "Content-Type must be application/json")
            sig = h.headers.get("X-Reclaim-Signature", "")
            parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
            try:
                t = int(parts.get("t", ""))
            except ValueError:
                return self.refuse(h, 401, "missing or malformed signature header")
            expected = hmac.new(self.secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, parts.get("v1", "")):
                return self.refuse(h, 401, "signature does not verify")
            if abs(time.time() - t) > self.tolerance:
                return self.refuse(h, 401, f"timestamp outside the {self.tolerance} s tolerance")
            if sig in self.seen_signatures:
                return self.refuse(h, 409, "replayed delivery (signature seen before)")
            self.seen_signatures.add(sig)
            try:
                doc = json.loads(body)
            except ValueError:
                return self.refuse(h, 400, "body is not JSON")
            delivery = h.headers.get("X-Reclaim-Delivery", "")
            if not delivery or not isinstance(doc, dict) or doc.get("id") != delivery:
                return self.refuse(h, 400, "X-Reclaim-Delivery must equal the body's id")
            if delivery in self.deliveries:
                self.stats["duplicates"] += 1
                return h.send_json(200, {"ok": True, "duplicate": True})
            self.deliveries[delivery] = doc
            self.received.append({"target": path[len("/hooks/"):], "body": doc})
            self.count_write(doc.get("subject", {}).get("id", "?"))
            return h.send_json(200, {"ok": True})


if __name__ == "__main__":
    simcore.serve(WebhookSim(), __doc__)
