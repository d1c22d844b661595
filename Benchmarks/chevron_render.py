"""Renders the digest templates with chevron, the way a team would script it in Python, and prints the rate.

usage: python3 chevron_render.py TEMPLATES_DIR CONTEXTS.jsonl
"""
import json
import os
import re
import sys
import time

import chevron

templates_dir, contexts_file = sys.argv[1], sys.argv[2]
pragma = re.compile(r"\{\{%[^}]*\}\}\n?")  # swift-mustache's CONTENT_TYPE pragma; chevron does not know it
partials = {}
for name in os.listdir(templates_dir):
    if name.endswith(".mustache"):
        with open(os.path.join(templates_dir, name), encoding="utf-8") as f:
            partials[name[: -len(".mustache")]] = pragma.sub("", f.read())
contexts = [json.loads(line) for line in open(contexts_file, encoding="utf-8")]

start = time.perf_counter()
size = 0
for pair in contexts:
    html = chevron.render(partials["digest.html"], pair["html"], partials_dict=partials)
    text = chevron.render(partials["digest.txt"], pair["text"], partials_dict=partials)
    size += len(html) + len(text)
elapsed = time.perf_counter() - start
rate = len(contexts) / elapsed
print("chevron (Python) per ambassador: %8.0f digests/s  (%d digests, %.1f KB each)" % (rate, len(contexts), size / len(contexts) / 1024))
print("CHEVRON_RATE %f" % rate)
