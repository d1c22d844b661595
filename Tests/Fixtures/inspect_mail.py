#!/usr/bin/python3
"""Parses every .eml in a folder with Python's standard email package and prints what a test needs as JSON."""
import glob
import json
import os
import sys
from email import policy
from email.parser import BytesParser

messages = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.eml"))):
    raw = open(path, "rb").read()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    lines = raw.split(b"\r\n")
    messages.append({
        "file": os.path.basename(path),
        "from": str(message["From"]),
        "to": str(message["To"]),
        "toAddress": message["To"].addresses[0].addr_spec if message["To"] else None,
        "toName": message["To"].addresses[0].display_name if message["To"] else None,
        "subject": str(message["Subject"]),
        "messageID": str(message["Message-ID"]),
        "date": str(message["Date"]),
        "listUnsubscribe": str(message["List-Unsubscribe"]) if message["List-Unsubscribe"] else None,
        "listUnsubscribePost": str(message["List-Unsubscribe-Post"]) if message["List-Unsubscribe-Post"] else None,
        "listID": str(message["List-Id"]) if message["List-Id"] else None,
        "contentType": message.get_content_type(),
        "partTypes": [part.get_content_type() for part in message.iter_parts()],
        "text": text.get_content() if text else None,
        "html": html.get_content() if html else None,
        "maxLineLength": max(len(line) for line in lines),
        "bareLF": b"\n" in raw.replace(b"\r\n", b""),
        "defects": [str(d) for part in message.walk() for d in part.defects],
    })
json.dump(messages, sys.stdout, ensure_ascii=False)
