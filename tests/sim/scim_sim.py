#!/usr/bin/env python3
"""scim_sim.py — a SCIM 2.0 service provider (RFC 7643/7644) as a SaaS app
exposes it: bearer token auth, /scim/v2/Users?filter= with the RFC 7644
§3.4.2.2 filter grammar (eq ne co sw ew gt ge lt le pr, and/or/not,
parentheses, attr.sub paths and value paths such as emails[value eq "…"];
attribute names case-insensitive; strings compared case-insensitively
except caseExact id/externalId), ListResponse paging, GET with weak ETags
(W/"n", also meta.version), PATCH (PatchOp, op case-insensitive, path
"active" or a root value object) and DELETE with If-Match → 412 on a stale
ETag, SCIM Error bodies (status as a string) for everything it refuses."""

import json
import re
import sys
from urllib.parse import unquote

sys.path.insert(0, __import__("os").path.dirname(__file__))
import simcore  # noqa: E402

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([()\[\]])|([^\s()\[\]"]+))')
CASE_EXACT = {"id", "externalid"}


class BadFilter(ValueError):
    pass


def tokenize(text):
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise BadFilter(f"cannot read the filter at {pos}")
        pos = m.end()
        if m.group(1):
            out.append(("value", json.loads(m.group(1))))
        elif m.group(2):
            out.append((m.group(2), m.group(2)))
        else:
            out.append(("word", m.group(3)))
    return out


class Filter:
    """RFC 7644 §3.4.2.2: FILTER = attrExp / logExp / valuePath / *1"not" "(" FILTER ")";
    parsed to a predicate over a resource dict."""
    OPS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}

    def __init__(self, text):
        self.toks, self.i = tokenize(text), 0
        self.pred = self.parse_or()
        if self.i != len(self.toks):
            raise BadFilter(f"unexpected {self.toks[self.i][1]!r}")

    def peek_word(self):
        t = self.toks[self.i] if self.i < len(self.toks) else (None, None)
        return t[1].lower() if t[0] == "word" else None

    def take(self, kind):
        if self.i >= len(self.toks) or self.toks[self.i][0] != kind:
            raise BadFilter(f"expected {kind}")
        self.i += 1
        return self.toks[self.i - 1][1]

    def parse_or(self):
        left = self.parse_and()
        while self.peek_word() == "or":
            self.i += 1
            right, l0 = self.parse_and(), left
            left = lambda r, a=l0, b=right: a(r) or b(r)  # noqa: E731
        return left

    def parse_and(self):
        left = self.parse_unary()
        while self.peek_word() == "and":
            self.i += 1
            right, l0 = self.parse_unary(), left
            left = lambda r, a=l0, b=right: a(r) and b(r)  # noqa: E731
        return left

    def parse_unary(self):
        if self.peek_word() == "not":
            self.i += 1
            self.take("(")
            inner = self.parse_or()
            self.take(")")
            return lambda r: not inner(r)
        if self.i < len(self.toks) and self.toks[self.i][0] == "(":
            self.i += 1
            inner = self.parse_or()
            self.take(")")
            return inner
        path = self.take("word").split(".")
        if self.i < len(self.toks) and self.toks[self.i][0] == "[":
            self.i += 1
            inner = self.parse_or()
            self.take("]")
            return lambda r: any(isinstance(e, dict) and inner(e) for e in values(r, path))
        op = (self.take("word") or "").lower()
        if op == "pr":
            return lambda r: any(v not in (None, "", []) for v in values(r, path))
        if op not in self.OPS:
            raise BadFilter(f"unknown operator {op}")
        if self.i < len(self.toks) and self.toks[self.i][0] == "value":
            want = self.take("value")
        else:
            w = self.take("word").lower()
            if w not in ("true", "false", "null"):
                try:
                    want = float(w)
                except ValueError:
                    raise BadFilter(f"bad value {w}") from None
            else:
                want = {"true": True, "false": False, "null": None}[w]
        exact = path[-1].lower() in CASE_EXACT
        return lambda r: any(compare(v, op, want, exact) for v in values(r, path))


def values(r, path):
    """The values at a (case-insensitive) attribute path; multi-valued attributes are flattened."""
    cur = [r]
    for name in path:
        nxt = []
        for c in cur:
            if isinstance(c, dict):
                for k, v in c.items():
                    if k.lower() == name.lower():
                        nxt.extend(v if isinstance(v, list) else [v])
        cur = nxt
    return cur


def compare(have, op, want, exact):
    if isinstance(have, str) and isinstance(want, str):
        if not exact:
            have, want = have.lower(), want.lower()
        return {"eq": have == want, "ne": have != want, "co": want in have, "sw": have.startswith(want),
                "ew": have.endswith(want), "gt": have > want, "ge": have >= want, "lt": have < want,
                "le": have <= want}[op]
    if op == "eq":
        return have == want
    if op == "ne":
        return have != want
    return False


def err(status, detail, scim_type=None):
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return status, body


class ScimSim(simcore.Sim):
    def __init__(self):
        super().__init__()
        self.seed({})

    def seed(self, b):
        self.token = b.get("token", "scim-token")
        self.etags = b.get("etags", True)
        self.users = {}
        for u in b.get("users", []):
            self.users[u["id"]] = {"id": u["id"], "userName": u["userName"], "active": u.get("active", True),
                                   "externalId": u.get("externalId"), "emails": u.get("emails", []),
                                   "version": 1}
        self.writes = {}
        self.stats = {"requests": 0, "throttled": 0, "writes": 0}

    def dump(self):
        return {"users": self.users, "writes": self.writes, "stats": self.stats}

    def resource(self, u):
        r = {"schemas": [USER], "id": u["id"], "userName": u["userName"], "active": u["active"],
             "meta": {"resourceType": "User", "location": f"/scim/v2/Users/{u['id']}"}}
        if u.get("externalId") is not None:
            r["externalId"] = u["externalId"]
        if u.get("emails"):
            r["emails"] = u["emails"]
        if self.etags:
            r["meta"]["version"] = f'W/"{u["version"]}"'
        return r

    def etag_headers(self, u):
        return {"ETag": f'W/"{u["version"]}"'} if self.etags else {}

    def route(self, h, method, path, query, body):
        with self.lock:
            if not path.startswith("/scim/v2/"):
                return h.send_json(*err(404, "unknown endpoint"), content_type="application/scim+json")
            if simcore.bearer(h) != self.token:
                return h.send_json(*err(401, "Authorization failure. The authorization header is invalid or missing."),
                                   content_type="application/scim+json")
            st, js, hd = self.users_api(h, method, path[len("/scim/v2"):], query, body)
            return h.send_json(st, js, hd, content_type="application/scim+json")

    def users_api(self, h, method, path, query, body):
        if path == "/Users" and method == "GET":
            f = query.get("filter", [None])[0]
            items = list(self.users.values())
            if f is not None:
                try:
                    pred = Filter(f).pred
                except (BadFilter, ValueError) as e:
                    return (*err(400, f"invalid filter {f}: {e}", "invalidFilter"), {})
                items = [u for u in items if pred(self.resource(u))]
            start = int(query.get("startIndex", ["1"])[0])
            count = int(query.get("count", ["100"])[0])
            page = items[start - 1:start - 1 + count]
            return 200, {"schemas": [LIST], "totalResults": len(items), "startIndex": start,
                         "itemsPerPage": len(page), "Resources": [self.resource(u) for u in page]}, {}
        m = re.fullmatch(r"/Users/([^/]+)", path)
        if not m:
            return (*err(404, f"no endpoint {method} {path}"), {})
        u = self.users.get(unquote(m.group(1)))
        if u is None:
            return (*err(404, f"Resource {m.group(1)} not found"), {})
        if method == "GET":
            return 200, self.resource(u), self.etag_headers(u)
        if method in ("PATCH", "DELETE"):
            im = h.headers.get("If-Match")
            if self.etags and im is not None and im != f'W/"{u["version"]}"':
                return (*err(412, "Failed to update. Resource changed on the server."), {})
        if method == "DELETE":
            del self.users[u["id"]]
            self.count_write(u["id"])
            return 204, None, {}
        if method == "PATCH":
            ct = h.headers.get("Content-Type", "")
            if not (ct.startswith("application/scim+json") or ct.startswith("application/json")):
                return (*err(400, "Content-Type must be application/scim+json", "invalidSyntax"), {})
            try:
                doc = json.loads(body)
            except ValueError:
                return (*err(400, "request body is not JSON", "invalidSyntax"), {})
            if not isinstance(doc, dict) or PATCH not in doc.get("schemas", []) or \
                    not isinstance(doc.get("Operations"), list) or not doc["Operations"]:
                return (*err(400, "not a PatchOp request", "invalidSyntax"), {})
            changes = {}
            for op in doc["Operations"]:
                if not isinstance(op, dict) or str(op.get("op", "")).lower() not in ("replace", "add"):
                    return (*err(400, f"unsupported operation {op}", "invalidSyntax"), {})
                if op.get("path") is None and isinstance(op.get("value"), dict):
                    changes.update(op["value"])
                elif str(op.get("path", "")).lower() == "active":
                    changes["active"] = op.get("value")
                else:
                    return (*err(400, f"unsupported path {op.get('path')}", "invalidPath"), {})
            if set(changes) - {"active"} or not isinstance(changes.get("active"), bool):
                return (*err(400, "active must be a boolean", "invalidValue"), {})
            u["active"] = changes["active"]
            u["version"] += 1
            self.count_write(u["id"])
            return 200, self.resource(u), self.etag_headers(u)
        return (*err(405, f"{method} not supported"), {})


if __name__ == "__main__":
    simcore.serve(ScimSim(), __doc__)
