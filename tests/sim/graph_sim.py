#!/usr/bin/env python3
"""graph_sim.py — a Microsoft Graph simulator for reclaim's tests: the v2.0
token endpoint (client credentials with a secret), GET /users/{id|upn} with
assignedLicenses and licenseAssignmentStates (group-inherited licences),
POST assignLicense, PATCH accountEnabled, group membership $ref, JSON $batch
(<= 20, ids unique, answers shuffled, inner throttling) and a write budget
enforced as a token bucket (429 + Retry-After, x-ms-throttle headers). It
refuses what Graph refuses, with Graph's error JSON shape."""

import base64
import hashlib
import json
import math
import os
import subprocess
import tempfile
import random
import re
import secrets
import sys
import threading
import time
from urllib.parse import parse_qs

sys.path.insert(0, __import__("os").path.dirname(__file__))
import simcore  # noqa: E402

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def gerr(status, code, message, headers=None):
    return status, {"error": {"code": code, "message": message,
                              "innerError": {"date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                             "request-id": secrets.token_hex(8)}}}, headers or {}


class Bucket:
    def __init__(self, count, window, tokens=None):
        self.rate = count / window
        self.cap = count
        self.tokens = count if tokens is None else tokens  # less: another client spent some
        self.last = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.cap, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return max(1, math.ceil((1 - self.tokens) / self.rate))


class GraphSim(simcore.Sim):
    def __init__(self):
        super().__init__()
        self.seed({})

    def seed(self, b):
        self.tenant = b.get("tenant", self.__dict__.get("tenant", "contoso"))
        self.clients = {c["client_id"]: c for c in b.get("clients", [])} or self.__dict__.get("clients", {})
        for c in self.clients.values():
            if c.get("certificate") and "pub" not in c:
                self.register_certificate(c)
        self.token_lifetime = b.get("token_lifetime", 3599)
        self.tokens = {}
        self.skus = {s["skuId"]: s for s in b.get("skus", [])}
        self.groups = {g["id"]: {"id": g["id"], "skus": g.get("skus", []), "members": set(g.get("members", []))}
                       for g in b.get("groups", [])}
        self.users = {}
        for u in b.get("users", []):
            self.users[u["id"]] = {"id": u["id"], "userPrincipalName": u["userPrincipalName"],
                                   "accountEnabled": u.get("accountEnabled", True),
                                   "usageLocation": u.get("usageLocation", "DE"),
                                   "direct": list(u.get("licenses", []))}
        lim = b.get("write_limit")
        self.bucket = Bucket(lim["count"], lim["window"], lim.get("tokens")) if lim else None
        self.writes = {}
        self.stats = {"requests": 0, "throttled": 0, "writes": 0, "batches": 0, "token_requests": 0}

    def user_json(self, u):
        assigned, states = [], []
        for s in u["direct"]:
            states.append({"skuId": s, "disabledPlans": [], "assignedByGroup": None, "state": "Active", "error": "None"})
        for g in self.groups.values():
            if u["id"] in g["members"]:
                for s in g["skus"]:
                    states.append({"skuId": s, "disabledPlans": [], "assignedByGroup": g["id"], "state": "Active",
                                   "error": "None"})
        for st in states:
            if st["skuId"] not in [a["skuId"] for a in assigned]:
                assigned.append({"skuId": st["skuId"], "disabledPlans": []})
        return {"id": u["id"], "userPrincipalName": u["userPrincipalName"], "accountEnabled": u["accountEnabled"],
                "usageLocation": u["usageLocation"], "assignedLicenses": assigned, "licenseAssignmentStates": states}

    def dump(self):
        return {"users": {uid: self.user_json(u) for uid, u in self.users.items()},
                "groups": {gid: {"skus": g["skus"], "members": sorted(g["members"])} for gid, g in self.groups.items()},
                "writes": self.writes, "stats": self.stats}

    def find_user(self, key):
        if key in self.users:
            return self.users[key]
        for u in self.users.values():
            if u["userPrincipalName"].lower() == key.lower():
                return u
        return None

    # --- token endpoint -------------------------------------------------
    def token(self, h, body):
        self.stats["token_requests"] += 1
        if not (h.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request", "error_description": "AADSTS900144: The request body must contain "
                                                                            "the following parameter: 'grant_type'."}, {}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"}, {}
        if not form.get("scope", "").endswith("/.default"):
            return 400, {"error": "invalid_scope", "error_description": "AADSTS1002012: The provided value for scope "
                         f"{form.get('scope')} is not valid. Client credential flows must have a scope value with "
                         "/.default suffixed to the resource identifier (application ID URI)."}, {}
        c = self.clients.get(form.get("client_id"))
        if c is None:
            return 400, {"error": "unauthorized_client", "error_description": "AADSTS700016: Application with "
                         f"identifier '{form.get('client_id')}' was not found in the directory '{self.tenant}'."}, {}
        if c.get("revoked"):
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000222: The provided client secret "
                         f"keys for app '{c['client_id']}' are expired."}, {}
        if "client_assertion" in form:
            if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or \
                    "pub" not in c:
                return 401, {"error": "invalid_client", "error_description": "AADSTS700027: no certificate "
                             "registered for this client"}, {}
            why = self.assertion_ok(c, form["client_assertion"])
            if why:
                return 401, {"error": "invalid_client", "error_description": why}, {}
        elif form.get("client_secret") != c.get("secret") or "secret" not in c:
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret "
                         "provided. Ensure the secret being sent in the request is the client secret value."}, {}
        tok = secrets.token_urlsafe(24)
        self.tokens[tok] = (time.time() + self.token_lifetime, c["client_id"])
        return 200, {"token_type": "Bearer", "expires_in": self.token_lifetime, "ext_expires_in": self.token_lifetime,
                     "access_token": tok}, {}

    def register_certificate(self, c):
        tmp = tempfile.mkdtemp(prefix="graph-sim-")
        cert = os.path.join(tmp, "cert.pem")
        with open(cert, "w") as f:
            f.write(c["certificate"])
        der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], capture_output=True, check=True).stdout
        c["x5t"] = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")
        c["pub"] = os.path.join(tmp, "pub.pem")
        pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], capture_output=True, check=True).stdout
        with open(c["pub"], "wb") as f:
            f.write(pub)

    def assertion_ok(self, c, jwt):
        """A certificate credential: RS256 JWT with x5t, aud, iss = sub = client_id, exp."""
        try:
            head, claims_b64, sig = jwt.split(".")
            dec = lambda x: base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))  # noqa: E731
            header, claims = json.loads(dec(head)), json.loads(dec(claims_b64))
        except (ValueError, TypeError):
            return "AADSTS50027: JWT token is invalid or malformed."
        if header.get("alg") != "RS256" or header.get("x5t") != c.get("x5t"):
            return "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered."
        if not str(claims.get("aud", "")).endswith("/oauth2/v2.0/token") or claims.get("iss") != c["client_id"] or \
                claims.get("sub") != c["client_id"] or not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            return "AADSTS700024: Client assertion is not within its valid time range or has wrong claims."
        with tempfile.NamedTemporaryFile() as d, tempfile.NamedTemporaryFile() as s:
            d.write(f"{head}.{claims_b64}".encode())
            d.flush()
            s.write(dec(sig))
            s.flush()
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", c["pub"], "-signature", s.name, d.name],
                               capture_output=True)
        return None if r.returncode == 0 else "AADSTS700027: Client assertion contains an invalid signature."

    def authorised(self, h):
        t = simcore.bearer(h)
        entry = self.tokens.get(t)
        if entry is None or entry[0] < time.time() or self.clients.get(entry[1], {}).get("revoked"):
            return False
        return True

    # --- API ------------------------------------------------------------
    def throttle_write(self):
        if self.bucket is None:
            return None
        wait = self.bucket.take()
        if wait == 0:
            return None
        self.stats["throttled"] += 1
        return gerr(429, "TooManyRequests", "Please retry again later.",
                    {"Retry-After": str(wait), "x-ms-throttle-scope": f"Tenant_Application/ReadWrite/app/{self.tenant}",
                     "x-ms-throttle-information": "WriteLimitExceeded"})

    def api(self, method, url, headers, body):
        """One Graph request (direct or inside $batch): (status, json, headers)."""
        path = url.split("?")[0]
        self.stats["api_requests"] = self.stats.get("api_requests", 0) + 1
        m = re.fullmatch(r"/users/([^/]+)", path)
        if m and method == "GET":
            u = self.find_user(__import__("urllib.parse").parse.unquote(m.group(1)))
            if u is None:
                return gerr(404, "Request_ResourceNotFound", f"Resource '{m.group(1)}' does not exist or one of its "
                            "queried reference-property objects are not present.")
            return 200, self.user_json(u), {}
        if m and method == "PATCH":
            return self.patch_user(m.group(1), headers, body)
        m = re.fullmatch(r"/users/([^/]+)/assignLicense", path)
        if m and method == "POST":
            return self.assign_license(m.group(1), headers, body)
        m = re.fullmatch(r"/groups/([^/]+)/members/([^/]+)/\$ref", path)
        if m and method == "DELETE":
            return self.remove_member(m.group(1), m.group(2))
        m = re.fullmatch(r"/groups/([^/]+)/members/\$ref", path)
        if m and method == "POST":
            return self.add_member(m.group(1), headers, body)
        return gerr(400, "Request_BadRequest", f"Unsupported request {method} {path}")

    def json_body(self, headers, body):
        ct = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if not ct.startswith("application/json"):
            return None, gerr(415, "UnsupportedMediaType", "Content-Type must be application/json")
        try:
            return (json.loads(body) if isinstance(body, (bytes, str)) else body), None
        except ValueError:
            return None, gerr(400, "BadRequest", "Unable to read JSON request payload.")

    def assign_license(self, key, headers, body):
        b, err = self.json_body(headers, body)
        if err:
            return err
        u = self.find_user(key)
        if u is None:
            return gerr(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist.")
        if not isinstance(b, dict) or not isinstance(b.get("addLicenses"), list) or \
                not isinstance(b.get("removeLicenses"), list):
            return gerr(400, "Request_BadRequest", "Invalid value specified for property 'addLicenses' or "
                        "'removeLicenses' of resource 'User'.")
        add = b["addLicenses"]
        if any(not isinstance(a, dict) or not GUID.match(str(a.get("skuId", ""))) for a in add) or \
                any(not isinstance(r, str) or not GUID.match(r) for r in b["removeLicenses"]):
            return gerr(400, "Request_BadRequest", "Invalid skuId: a GUID is required.")
        for s in [a["skuId"] for a in add] + b["removeLicenses"]:
            if s not in self.skus:
                return gerr(400, "Request_BadRequest", f"License {s} does not correspond to a valid company License.")
        view = self.user_json(u)
        for s in b["removeLicenses"]:
            if s not in u["direct"]:
                if any(st["skuId"] == s for st in view["licenseAssignmentStates"]):
                    return gerr(400, "Request_BadRequest", "User license is inherited from group membership and "
                                "cannot be removed directly from the user.")
                return gerr(400, "Request_BadRequest", "User does not have a corresponding license.")
        if add and not u["usageLocation"]:
            return gerr(400, "Request_BadRequest", "License assignment cannot be done for user with invalid usage "
                        "location.")
        t = self.throttle_write()
        if t:
            return t
        u["direct"] = [s for s in u["direct"] if s not in b["removeLicenses"]]
        for a in add:
            if a["skuId"] not in u["direct"]:
                u["direct"].append(a["skuId"])
        self.count_write(u["id"])
        return 200, self.user_json(u), {}

    def patch_user(self, key, headers, body):
        b, err = self.json_body(headers, body)
        if err:
            return err
        u = self.find_user(key)
        if u is None:
            return gerr(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist.")
        if not isinstance(b, dict) or set(b) - {"accountEnabled", "usageLocation"} or \
                ("accountEnabled" in b and not isinstance(b["accountEnabled"], bool)):
            return gerr(400, "Request_BadRequest", "Invalid property or value in the request.")
        t = self.throttle_write()
        if t:
            return t
        u.update(b)
        self.count_write(u["id"])
        return 204, None, {}

    def remove_member(self, gid, uid):
        g = self.groups.get(gid)
        if g is None or uid not in g["members"]:
            return gerr(404, "Request_ResourceNotFound", f"Resource '{uid}' does not exist or one of its queried "
                        "reference-property objects are not present.")
        t = self.throttle_write()
        if t:
            return t
        g["members"].discard(uid)
        self.count_write(uid)
        return 204, None, {}

    def add_member(self, gid, headers, body):
        b, err = self.json_body(headers, body)
        if err:
            return err
        g = self.groups.get(gid)
        ref = b.get("@odata.id", "") if isinstance(b, dict) else ""
        uid = ref.rsplit("/", 1)[-1]
        if g is None or uid not in self.users or "/directoryObjects/" not in ref:
            return gerr(400, "Request_BadRequest", "Invalid object identifier or reference.")
        if uid in g["members"]:
            return gerr(400, "Request_BadRequest", "One or more added object references already exist for the "
                        "following modified properties: 'members'.")
        t = self.throttle_write()
        if t:
            return t
        g["members"].add(uid)
        self.count_write(uid)
        return 204, None, {}

    def batch(self, h, body):
        self.stats["batches"] += 1
        b, err = self.json_body(dict(h.headers.items()), body)
        if err:
            return err
        reqs = b.get("requests") if isinstance(b, dict) else None
        if not isinstance(reqs, list) or not reqs:
            return gerr(400, "BadRequest", "Invalid batch payload format.")
        if len(reqs) > 20:
            return gerr(400, "BadRequest", "Number of included requests in the batch exceeds the limit of 20.")
        ids = [r.get("id") if isinstance(r, dict) else None for r in reqs]
        if any(not isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
            return gerr(400, "BadRequest", "Batch request ids must be unique strings.")
        out = []
        for r in reqs:
            if "body" in r and "content-type" not in {k.lower() for k in r.get("headers", {})}:
                return gerr(400, "BadRequest", "Content-Type header must be specified for requests with a body.")
            if not str(r.get("url", "")).startswith("/"):
                return gerr(400, "BadRequest", "Request url must be relative.")
            st, js, hd = self.api(r.get("method", "GET"), r["url"], r.get("headers", {}), r.get("body"))
            resp = {"id": r["id"], "status": st, "headers": hd}
            if js is not None:
                resp["body"] = js
            out.append(resp)
        random.shuffle(out)
        return 200, {"responses": out}, {}

    def route(self, h, method, path, query, body):
        with self.lock:
            if re.fullmatch(r"/[^/]+/oauth2/v2\.0/token", path) and method == "POST":
                st, js, hd = self.token(h, body)
                return h.send_json(st, js, hd)
            if not path.startswith("/v1.0/"):
                return h.send_json(*gerr(404, "NotFound", "unknown path")[:2])
            if not self.authorised(h):
                return h.send_json(*gerr(401, "InvalidAuthenticationToken",
                                         "Access token has expired or is not yet valid.")[:2])
            sub = path[len("/v1.0"):]
            if sub == "/$batch" and method == "POST":
                st, js, hd = self.batch(h, body)
            else:
                url = sub + ("?" + h.path.split("?", 1)[1] if "?" in getattr(h, "path", "") else "")
                st, js, hd = self.api(method, url, dict(h.headers.items()), body)
            if st == 429 and "$batch" not in sub:
                pass
            hd = dict(hd)
            hd["x-ms-resource-unit"] = "1"
            return h.send_json(st, js, hd)


if __name__ == "__main__":
    simcore.serve(GraphSim(), __doc__)
