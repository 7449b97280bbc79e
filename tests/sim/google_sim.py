#!/usr/bin/env python3
"""google_sim.py — a Google Enterprise License Manager (licensing v1)
simulator: the OAuth token endpoint for the service-account JWT bearer
grant (RS256 signature verified with the registered public key through the
openssl command, iss/aud/scope/iat/exp/sub checked, domain-wide delegation
required for `sub`), and licenseAssignments get/insert/patch/delete under
/apps/licensing/v1/product/{p}/sku/{s}/user[/{u}] with Google's error JSON.
The documented default quota ("QPS quota 1", licensing v1 limits page) is
enforced per service account, reads and writes together: a request that
arrives sooner than 1/qps after the last accepted one of the same account
(less a 10 % allowance for loopback jitter: a write opens a fresh
connection, a read reuses one) is refused with 503 quotaExceeded, Google's
quota answer; `qps` in the seed changes it, 0 turns it off. Other quota
errors are injected as 503 faults."""

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from urllib.parse import parse_qs, unquote

sys.path.insert(0, os.path.dirname(__file__))
import simcore  # noqa: E402

SCOPE = "https://www.googleapis.com/auth/apps.licensing"
PREFIX = "/apps/licensing/v1/product/"


def gerr(code, message, reason, status):
    return code, {"error": {"code": code, "message": message,
                            "errors": [{"message": message, "domain": "global", "reason": reason}],
                            "status": status}}


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class GoogleSim(simcore.Sim):
    def __init__(self):
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="google-sim-")
        self.seed({})

    def seed(self, b):
        self.accounts = {}
        for a in b.get("service_accounts", []):
            path = os.path.join(self.tmp, secrets.token_hex(4) + ".pub")
            with open(path, "w") as f:
                f.write(a["public_key"])
            self.accounts[a["client_email"]] = {"pub": path, "delegated": a.get("delegated", True)}
        self.admins = set(b.get("admins", []))
        self.skus = {(s["productId"], s["skuId"]): s.get("skuName", s["skuId"]) for s in b.get("skus", [])}
        self.assignments = {}
        for a in b.get("assignments", []):
            self.assignments[(a["productId"], a["userId"].lower())] = a["skuId"]
        self.tokens = {}          # access token -> (expiry, service account)
        self.qps = b.get("qps", 1)
        self.last_request = {}    # service account -> monotonic time of its last accepted request
        self.writes = {}
        self.stats = {"requests": 0, "throttled": 0, "writes": 0, "token_requests": 0, "quota_refused": 0}

    def dump(self):
        return {"assignments": [{"productId": p, "userId": u, "skuId": s} for (p, u), s in self.assignments.items()],
                "writes": self.writes, "stats": self.stats}

    def verify(self, pub, signing_input, sig):
        with tempfile.NamedTemporaryFile(dir=self.tmp) as d, tempfile.NamedTemporaryFile(dir=self.tmp) as s:
            d.write(signing_input)
            d.flush()
            s.write(sig)
            s.flush()
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", s.name, d.name],
                               capture_output=True)
            return r.returncode == 0

    def token(self, h, body):
        self.stats["token_requests"] += 1
        if not (h.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request", "error_description": "Invalid content type"}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
        try:
            head, claims_b64, sig = form.get("assertion", "").split(".")
            header, claims = json.loads(b64url(head)), json.loads(b64url(claims_b64))
        except (ValueError, TypeError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: malformed"}
        acct = self.accounts.get(claims.get("iss"))
        if header.get("alg") != "RS256" or acct is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: unknown issuer or algorithm"}
        if not self.verify(acct["pub"], f"{head}.{claims_b64}".encode(), b64url(sig)):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        now = time.time()
        if not claims.get("aud", "").endswith("/token"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: aud is not the token endpoint"}
        if not isinstance(claims.get("exp"), int) or not isinstance(claims.get("iat"), int) or \
                claims["exp"] - claims["iat"] > 3600 or claims["exp"] < now or claims["iat"] > now + 60:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived "
                         "token (60 minutes) and in a reasonable timeframe."}
        if SCOPE not in claims.get("scope", "").split():
            return 400, {"error": "invalid_scope", "error_description": "scope does not include apps.licensing"}
        if not acct["delegated"] or claims.get("sub") not in self.admins:
            return 401, {"error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve "
                         "access tokens using this method, or client not authorized for any of the scopes requested."}
        tok = "ya29." + secrets.token_urlsafe(24)
        self.tokens[tok] = (now + 3599, claims.get("iss"))
        return 200, {"access_token": tok, "expires_in": 3599, "token_type": "Bearer"}

    def route(self, h, method, path, query, body):
        with self.lock:
            if path == "/token" and method == "POST":
                return h.send_json(*self.token(h, body))
            if not path.startswith(PREFIX):
                return h.send_json(*gerr(404, "Not Found", "notFound", "NOT_FOUND"))
            expiry, account = self.tokens.get(simcore.bearer(h), (0, None))
            if expiry < time.time():
                return h.send_json(*gerr(401, "Request had invalid authentication credentials.", "authError",
                                         "UNAUTHENTICATED"))
            if self.over_quota(account):
                self.stats["quota_refused"] += 1
                return h.send_json(*gerr(503, f"Quota exceeded for quota metric 'Queries' and limit 'Queries per "
                                         f"second' of service 'licensing.googleapis.com' for consumer "
                                         f"'{account}'.", "quotaExceeded", "UNAVAILABLE"))
            parts = [unquote(p) for p in path[len(PREFIX):].split("/")]
            if len(parts) < 4 or parts[1] != "sku" or parts[3] != "user":
                return h.send_json(*gerr(404, "Not Found", "notFound", "NOT_FOUND"))
            product, sku = parts[0], parts[2]
            if (product, sku) not in self.skus:
                return h.send_json(*gerr(400, f"Invalid productId/skuId {product}/{sku}", "invalid", "INVALID_ARGUMENT"))
            user = parts[4].lower() if len(parts) == 5 else None
            return h.send_json(*self.assignment(h, method, product, sku, user, body))

    def over_quota(self, account):
        if not self.qps:
            return False
        now = time.monotonic()
        last = self.last_request.get(account)
        if last is not None and now - last < 0.9 / self.qps:
            return True
        self.last_request[account] = now
        return False

    def resource(self, product, sku, user):
        return {"kind": "licensing#licenseAssignment", "etags": secrets.token_hex(6), "productId": product,
                "userId": user, "skuId": sku, "skuName": self.skus[(product, sku)],
                "selfLink": f"{PREFIX}{product}/sku/{sku}/user/{user}"}

    def assignment(self, h, method, product, sku, user, body):
        held = self.assignments.get((product, user)) if user else None
        if user and method in ("GET", "DELETE", "PATCH", "PUT") and held != sku:
            return gerr(404, "User does not have a license for specified sku and product", "notFound", "NOT_FOUND")
        if method == "GET" and user:
            return 200, self.resource(product, sku, user)
        if method == "DELETE" and user:
            del self.assignments[(product, user)]
            self.count_write(user)
            return 200, None
        if method in ("PATCH", "PUT") and user:
            try:
                new = json.loads(body).get("skuId")
            except (ValueError, AttributeError):
                new = None
            if (product, new) not in self.skus:
                return gerr(400, "Invalid skuId", "invalid", "INVALID_ARGUMENT")
            self.assignments[(product, user)] = new
            self.count_write(user)
            return 200, self.resource(product, new, user)
        if method == "POST" and user is None:
            try:
                uid = json.loads(body)["userId"].lower()
            except (ValueError, KeyError, TypeError, AttributeError):
                return gerr(400, "Invalid request: userId is required", "required", "INVALID_ARGUMENT")
            if (product, uid) in self.assignments:
                return gerr(409, "User already has a license for this product", "duplicate", "ALREADY_EXISTS")
            self.assignments[(product, uid)] = sku
            self.count_write(uid)
            return 200, self.resource(product, sku, uid)
        return gerr(405, "Method not allowed", "badRequest", "INVALID_ARGUMENT")


if __name__ == "__main__":
    simcore.serve(GoogleSim(), __doc__)
