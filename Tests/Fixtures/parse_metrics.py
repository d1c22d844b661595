#!/usr/bin/python3
"""Parses Prometheus' text format with the reference client's parser (Debian's python3-prometheus-client), so the
tests check what a real scraper reads, not strings. Reads the text from the file named on the command line, or
stdin; prints {"families": {name: type}, "samples": [{"name", "labels", "value"}]} as JSON. Exits 1 on text the
parser refuses."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    families, samples = {}, []
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
    print(json.dumps({"families": families, "samples": samples}))


if __name__ == "__main__":
    main()
