#!/usr/bin/python3
"""Verifies every DKIM signature of .eml files with dkimpy (Debian's python3-dkim), an implementation independent
of Advocate's. The public keys come from a JSON file {"selector._domainkey.domain.": "v=DKIM1; ...", ...} instead
of DNS. Prints JSON: for each file, the list of (selector, algorithm, verified) per signature.

usage: verify_dkim.py RECORDS.json FILE.eml...
"""
import json
import sys

import dkim


def main():
    records = json.load(open(sys.argv[1]))

    def dnsfunc(name, timeout=5):
        key = name.decode() if isinstance(name, bytes) else name
        return records.get(key.rstrip(".") + ".", "").encode()

    results = {}
    for path in sys.argv[2:]:
        message = open(path, "rb").read()
        verifier = dkim.DKIM(message)
        signatures = []
        count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
        for index in range(count):
            ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
            signature = verifier.signature_fields
            signatures.append({
                "selector": signature.get(b"s", b"").decode(), "algorithm": signature.get(b"a", b"").decode(),
                "headers": signature.get(b"h", b"").decode().replace(" ", "").replace("\r\n", ""),
                "verified": bool(ok),
            })
        results[path] = signatures
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
