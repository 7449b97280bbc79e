#!/usr/bin/env python3
"""witness.py — a minimal transparency-log witness written from the C2SP
specifications tlog-witness (POST add-checkpoint), tlog-cosignature
(cosignature/v1, Ed25519), signed-note and tlog-checkpoint, with its own
RFC 9162 consistency-proof verifier. It keeps the latest cosigned size and
root per origin in a JSON file (written atomically before answering)."""

import argparse
import base64
import hashlib
import json
import os
import struct
import sys
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(__file__))
import simcore  # noqa: E402

EM_DASH = "\u2014"


def b64(data):
    return base64.b64encode(data).decode()


def unb64(text):
    """Strict standard base64 (padding required, nothing else)."""
    try:
        data = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        return None
    return data if b64(data) == text else None


def key_id(name, kind, pub):
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + pub).digest()[:4]


def parse_vkey(text, kind):
    """name+hexid+base64(kind || 32-byte key) -> (name, id bytes, pub)."""
    name, hexid, key = text.strip().split("+", 2)
    raw = unb64(key)
    if raw is None or len(raw) != 33 or raw[0] != kind:
        raise ValueError(f"not a vkey of type {kind:#04x}: {text}")
    kid = bytes.fromhex(hexid)
    if kid != key_id(name, kind, raw[1:]):
        raise ValueError(f"key id does not match key: {text}")
    return name, kid, raw[1:]


# RFC 9162 2.1: leaf and node hashes with domain separation.
def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 section 2.1.4.2, step by step."""
    if first > second:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return not proof  # C2SP tlog-witness: no proof from the empty tree
    if not proof:
        return False
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        proof = [first_hash] + list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


class Refusal(Exception):
    def __init__(self, status, text, content_type="text/plain; charset=utf-8"):
        super().__init__(text)
        self.status, self.text, self.content_type = status, text, content_type


def parse_request(body):
    """old line, proof lines, empty line, signed checkpoint note."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "request body is not UTF-8")
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Refusal(400, "no empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise Refusal(400, "first line is not 'old <size>'")
    old_text = lines[0][4:]
    if not old_text.isdigit() or (len(old_text) > 1 and old_text[0] == "0") or not old_text.isascii():
        raise Refusal(400, "old size is not a decimal without leading zeroes")
    proof = []
    for line in lines[1:]:
        h = unb64(line)
        if h is None or len(h) != 32:
            raise Refusal(400, "consistency proof line is not a base64 SHA-256 hash")
        proof.append(h)
    if len(proof) > 63:
        raise Refusal(400, "more than 63 consistency proof lines")
    return int(old_text), proof, note


def parse_note(note):
    if not note.endswith("\n"):
        raise Refusal(400, "checkpoint note does not end with a newline")
    body, sep, sigs = note.rpartition("\n\n")
    if not sep:
        raise Refusal(400, "checkpoint note has no signatures")
    body += "\n"
    signatures = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise Refusal(400, "malformed signature line")
        name, _, blob = line[2:].partition(" ")
        raw = unb64(blob)
        if raw is None or len(raw) < 5:
            raise Refusal(400, "malformed signature")
        signatures.append((name, raw[:4], raw[4:]))
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise Refusal(400, "checkpoint needs origin, size and root lines")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or not size_text.isascii() or (len(size_text) > 1 and size_text[0] == "0"):
        raise Refusal(400, "checkpoint size is not a decimal")
    root = unb64(root_text)
    if root is None or len(root) != 32:
        raise Refusal(400, "checkpoint root is not a base64 SHA-256 hash")
    return body, signatures, origin, int(size_text), root


class Witness(simcore.Sim):
    def __init__(self, name, seed, state_path, log_keys):
        super().__init__()
        self.name = name
        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        self.pub = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.id = key_id(name, 0x04, self.pub)
        self.state_path = state_path
        self.logs = {}  # origin -> [(name, id, pub)]
        for v in log_keys:
            n, kid, pub = parse_vkey(v, 0x01)
            self.logs.setdefault(n, []).append((n, kid, pub))
        self.latest = {}  # origin -> {"size": n, "root": base64}
        if os.path.exists(state_path):
            with open(state_path) as f:
                self.latest = json.load(f)
        self.forge = False
        self.stats.update({"cosigned": 0, "refused": {}})

    def vkey(self):
        return f"{self.name}+{self.id.hex()}+{b64(bytes([0x04]) + self.pub)}"

    def seed(self, body):
        # Test control: set a forged answer mode, or replace the stored state.
        if "forge" in body:
            self.forge = bool(body["forge"])
        if "latest" in body:
            self.latest = body["latest"]
            self.persist()

    def dump(self):
        return {"latest": self.latest, "vkey": self.vkey(), "stats": self.stats}

    def persist(self):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.latest, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, self.state_path)

    def cosign(self, body_text):
        t = int(time.time())
        msg = f"cosignature/v1\ntime {t}\n".encode() + body_text.encode()
        sig = self.key.sign(msg)
        if self.forge:  # a wrong signature under the right name and key id
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        return f"{EM_DASH} {self.name} {b64(self.id + struct.pack('>Q', t) + sig)}\n"

    def add_checkpoint(self, body):
        old, proof, note = parse_request(body)
        text, sigs, origin, size, root = parse_note(note)
        keys = self.logs.get(origin)
        if not keys:
            raise Refusal(404, f"unknown log origin {origin}")
        verified = False
        for name, kid, sig in sigs:
            for kn, kk, pub in keys:
                if name != kn or kid != kk:
                    continue  # signatures from unknown keys are ignored
                try:
                    Ed25519PublicKey.from_public_bytes(pub).verify(sig, text.encode())
                    verified = True
                except InvalidSignature:
                    pass
        if not verified:
            raise Refusal(403, "no signature from a trusted log key")
        if old > size:
            raise Refusal(400, "old size is larger than the checkpoint size")
        # Checking old against the stored size and storing the new one happen
        # under one lock (the race described in tlog-witness).
        with self.lock:
            cur = self.latest.get(origin, {"size": 0, "root": None})
            if old != cur["size"]:
                raise Refusal(409, f"{cur['size']}\n", "text/x.tlog.size")
            if old == size:
                if old != 0 and unb64(cur["root"]) != root:
                    raise Refusal(409, f"{cur['size']}\n", "text/x.tlog.size")
                if proof:
                    raise Refusal(422, "a proof between equal sizes must be empty")
            elif not verify_consistency(old, size, unb64(cur["root"]) if old else b"", root, proof):
                raise Refusal(422, "consistency proof does not verify")
            self.latest[origin] = {"size": size, "root": b64(root)}
            self.persist()
            self.stats["cosigned"] += 1
            return self.cosign(text)

    def route(self, h, method, path, query, body):
        if method != "POST" or path != "/add-checkpoint":
            return h.send_raw(404, b"not found\n", None, "text/plain")
        try:
            answer = self.add_checkpoint(body)
        except Refusal as r:
            with self.lock:
                self.stats["refused"][str(r.status)] = self.stats["refused"].get(str(r.status), 0) + 1
            return h.send_raw(r.status, r.text.encode(), None, r.content_type)
        return h.send_raw(200, answer.encode(), None, "text/plain; charset=utf-8")


def main():
    p = argparse.ArgumentParser(description=__doc__, add_help=False)
    p.add_argument("--name", default="witness.test/w1")
    p.add_argument("--key-seed", required=True, help="file of 32 random bytes (created if missing)")
    p.add_argument("--db", required=True, help="JSON file of the latest cosigned size per origin")
    p.add_argument("--log-key", action="append", default=[], help="a log's vkey (0x01), repeatable")
    p.add_argument("--vkey-file", help="write the witness's own vkey (0x04) here")
    a, rest = p.parse_known_args()
    if not os.path.exists(a.key_seed):
        fd = os.open(a.key_seed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(32))
        os.close(fd)
    with open(a.key_seed, "rb") as f:
        seed = f.read()
    w = Witness(a.name, seed, a.db, a.log_key)
    if a.vkey_file:
        with open(a.vkey_file + ".tmp", "w") as f:
            f.write(w.vkey() + "\n")
        os.rename(a.vkey_file + ".tmp", a.vkey_file)
    sys.argv = [sys.argv[0]] + rest
    simcore.serve(w, "C2SP tlog-witness for tests")


if __name__ == "__main__":
    main()
