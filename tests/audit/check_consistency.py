#!/usr/bin/env python3
"""check_consistency.py — an independent checker of reclaim's consistency
bundles (`reclaimctl audit consistency`), written from the specifications
and sharing no code with reclaim: C2SP signed-note / tlog-checkpoint with
Ed25519 (python3-cryptography), RFC 9162 2.1.1 (the Merkle tree hash) and
2.1.4.2 (verifying a consistency proof).

  check_consistency.py --origin O --key VKEY [--log FILE] BUNDLE...

Exit 0 and "consistent" for each bundle when both checkpoints carry a valid signature by
VKEY and the proof joins them (and, with --log, both roots are the tree
hash of the log's first lines); exit 1 if any bundle fails, naming it.
"""
import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Refused(Exception):
    pass


def b64(text):
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise Refused(f"not canonical standard base64: {text!r}")
    return raw


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def parse_vkey(vkey):
    # <name>+<8 hex key id>+<base64(0x01 || 32-byte key)>; names contain no '+'.
    name, key_id, key = vkey.split("+", 2)
    raw = b64(key)
    if len(raw) != 33 or raw[0] != 1:
        raise Refused("verifier key is not an Ed25519 key")
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if want.hex() != key_id:
        raise Refused("verifier key id does not match its key")
    return name, want, raw[1:]


def open_checkpoint(note, origin, vkey):
    name, key_id, pub = parse_vkey(vkey)
    text, sep, sigs = note.partition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise Refused("not a signed note")
    text += "\n"
    lines = text.split("\n")
    if len(lines) < 4:
        raise Refused("checkpoint text has fewer than three lines")
    if lines[0] != origin:
        raise Refused(f"checkpoint origin {lines[0]!r} is not {origin!r}")
    if not lines[1].isdigit() or (lines[1] != "0" and lines[1].startswith("0")):
        raise Refused(f"tree size {lines[1]!r} is not canonical decimal")
    size, root = int(lines[1]), b64(lines[2])
    if len(root) != 32:
        raise Refused("root hash is not 32 bytes")
    verified = False
    for line in sigs[:-1].split("\n"):
        dash, sig_name, blob = line.split(" ")
        if dash != "\u2014":
            raise Refused("signature line does not start with an em dash")
        blob = b64(blob)
        if sig_name != name or blob[:4] != key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise Refused("signature by the trusted key does not verify")
        verified = True
    if not verified:
        raise Refused("no signature by the trusted key")
    return size, root


def verify_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162 section 2.1.4.2, step by step."""
    if first == second:  # 2.1.4.1: the proof between equal trees is empty
        return not path and first_hash == second_hash
    if first == 0 or first > second:
        return False
    # 1. If consistency_path is an empty array, stop and fail.
    if not path:
        return False
    path = list(path)
    # 2. If first is an exact power of 2, prepend first_hash.
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, right-shift both until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value of the path.
    fr = sr = path[0]
    # 6. For each subsequent value c:
    for c in path[1:]:
        if sn == 0:  # a.
            return False
        if fn & 1 or fn == sn:  # b.
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1  # c.
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash and sn == 0.
    return fr == first_hash and sr == second_hash and sn == 0


def mth(leaves):
    """RFC 9162 2.1.1: MTH of a list of leaf inputs."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def check(bundle, origin, vkey, log):
    if bundle.get("format") != "reclaim-audit-consistency/1":
        raise Refused("not a reclaim-audit-consistency/1 bundle")
    m, old_root = open_checkpoint(bundle["old_checkpoint"], origin, vkey)
    n, new_root = open_checkpoint(bundle["new_checkpoint"], origin, vkey)
    if bundle["old_size"] != m or bundle["new_size"] != n:
        raise Refused("bundle sizes differ from the checkpoints'")
    path = [b64(h) for h in bundle["proof"]]
    if any(len(h) != 32 for h in path):
        raise Refused("a proof hash is not 32 bytes")
    if not verify_consistency(m, n, old_root, new_root, path):
        raise Refused(f"proof does not show tree size {m} to be a prefix of tree size {n}")
    if log is not None:
        with open(log, "rb") as f:
            lines = f.read().split(b"\n")[:-1]
        for size, root in ((m, old_root), (n, new_root)):
            if size > len(lines) or mth(lines[:size]) != root:
                raise Refused(f"the log's first {size} records do not hash to the checkpoint root")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--origin", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log")
    ap.add_argument("bundle", nargs="+")
    a = ap.parse_args()
    failed = 0
    for name in a.bundle:
        with open(name) as f:
            bundle = json.load(f)
        try:
            check(bundle, a.origin, a.key, a.log)
        except (Refused, KeyError, ValueError, TypeError) as e:
            print(f"inconsistent: {name}: {e}")
            failed += 1
            continue
        print(f"consistent: {bundle['old_size']} -> {bundle['new_size']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
