#!/usr/bin/env python3
"""Verify ksbfolio review signatures offline, independently of ksbfolio.

usage: verify-review.py ITEM.json REVIEW.json PUBLIC.pem

ITEM.json is apprentices/<id>/items/<item-id>.json, REVIEW.json the
matching reviews/<item-id>.json, PUBLIC.pem the reviewer's public key
(ksbfolio keygen's NAME.pub). For every signed decision it rebuilds the
item's content hash and the signed payload as docs/ledger.md ("Signed
decisions") defines them (RFC 8785 JSON), and checks the ed25519 signature
with `openssl pkeyutl`. It prints one line per signed decision and exits 1
if any fails. Needs Python 3 and OpenSSL 3 only.

Numbers in facts are written as Python writes them, which is RFC 8785's
form for integers and most decimals; strings and member order follow RFC
8785 (members sorted by code point, the same as RFC 8785's UTF-16 order
outside the astral planes).
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def jcs(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(item):
    keys = ["artefacts", "facts", "id", "kind", "links", "occurred_at", "origin", "redactions", "summary", "title"]
    content = {k: item.get(k) for k in keys}
    for k in ("artefacts", "links", "redactions"):
        if content[k] is None:
            content[k] = []
    if content["facts"] is None:
        content["facts"] = {}
    return "sha256:" + hashlib.sha256(jcs(content)).hexdigest()


def payload(item_id, d):
    return jcs({
        "accept": d.get("accept") or [],
        "at": d["at"],
        "by": d.get("by", ""),
        "confidential": d.get("confidential"),
        "exclude": d.get("exclude"),
        "id": d.get("id", ""),
        "item": item_id,
        "item_hash": d.get("item_hash", ""),
        "note": d.get("note", ""),
        "reject": d.get("reject") or [],
        "role": d.get("role", ""),
        "type": "ksbfolio-review-decision/v1",
    })


def verify(pub, data, sig):
    with tempfile.TemporaryDirectory() as tmp:
        p, s = os.path.join(tmp, "payload"), os.path.join(tmp, "sig")
        with open(p, "wb") as f:
            f.write(data)
        with open(s, "wb") as f:
            f.write(sig)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", p, "-sigfile", s],
                           capture_output=True)
        return r.returncode == 0


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    item = json.load(open(sys.argv[1], encoding="utf-8"))
    review = json.load(open(sys.argv[2], encoding="utf-8"))
    now = content_hash(item)
    failed = 0
    for d in review.get("decisions", []):
        if not d.get("signature"):
            continue
        what = "decision %s by %s (%s) at %s" % (d.get("id"), d.get("by"), d.get("role"), d.get("at"))
        if not verify(sys.argv[3], payload(review["item"], d), base64.b64decode(d["signature"])):
            print("FAIL %s: the signature does not verify with this key" % what)
            failed += 1
        elif d.get("item_hash") != now:
            print("STALE %s: signed over %s, the item is now %s" % (what, d.get("item_hash"), now))
            failed += 1
        else:
            print("OK %s" % what)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
