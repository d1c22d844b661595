#!/usr/bin/python3
"""Throws malformed and hostile HTTP requests at a running `advocate serve` on loopback and checks that it neither
crashes nor hangs. Bounded in count and time; standard library only.

usage: fuzz_http.py BASE_URL TOKEN_FILE [--requests N] [--seconds S] [--seed K]

The server should run with ADVOCATE_ADMIN_TOKEN=fuzz-token-0123456789 so that the dashboard is reached too. TOKEN_FILE holds real link
tokens, one "kind token" pair a line (kind: s, l, t or u), so that mutations start from
paths that reach the deep code (token opening, form decoding, redirects). Every request gets a fresh connection and
must be answered within 5 s; after every 200 requests /healthz must answer 200. Prints a summary line and exits
non-zero on the first hang, dropped connection without an answer, 5xx, or failed health check.
"""
import argparse
import random
import socket
import sys
import time
from urllib.parse import urlparse

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "G\x00T", "get", ""]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=XyZ", "multipart/form-data",
    "multipart/form-data; boundary=", "multipart/form-data; boundary=\"" + "a" * 80 + "\"", "text/plain",
    "application/json", "multipart/form-data; boundary=\"XyZ\"; charset=utf-8", "\x00\xff", "",
]
BODIES = [
    b"", b"=", b"&", b"==", b"&=&=", b"%", b"%zz", b"%%%%", b"List-Unsubscribe=One-Click", b"action=unsubscribe",
    b"action=resubscribe", b"action[]=x", b"action=save&name=x&language=en&networks[]=x&frequency=weekly",
    b"action=erase", b"action=download", b"csrf=x&email=a%40b.c&name=n&language=nl&networks%5B%5D=x",
    b"themes[]=a&themes[]=b&themes[0]=c", b"networks[a][b]=x", b"pausedUntil=9999-99-99&action=save", b"action[a][b][c]=1", b"a" * 5000, b"\x00" * 64, bytes(range(256)),
    b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n",
    b"--XyZ\r\n\r\n\r\n--XyZ--", b"--XyZ", b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
    b"--XyZ--", b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"\r\n\r\n--XyZ",
    "action=\u00e9\u2603".encode(), b"List-Unsubscribe=One-Click&List-Unsubscribe=One-Click",
]


def mutate_token(token, rng):
    choice = rng.randrange(8)
    if choice == 0:
        return token
    if choice == 1:
        return token[:rng.randrange(len(token) + 1)]
    if choice == 2:
        i = rng.randrange(len(token))
        return token[:i] + rng.choice("AZaz09-_+/=%.~") + token[i + 1:]
    if choice == 3:
        return token + rng.choice(["/", "/..", "%2F..", "?x=1", "#f", "%00", "%", token])
    if choice == 4:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in
                       range(rng.choice([22, 23, 24])))
    if choice == 5:
        return "%" + "%".join("%02X" % ord(c) for c in token)
    if choice == 6:
        return token * rng.randrange(2, 30)
    return "".join(chr(rng.randrange(1, 0x250)) for _ in range(rng.randrange(1, 40)))


def random_path(tokens, rng):
    kind, token = rng.choice(tokens)
    roll = rng.randrange(10)
    if roll < 6:
        return "/%s/%s" % (rng.choice([kind, kind, kind, "s", "l", "t", "u", "x"]), mutate_token(token, rng))
    return rng.choice([
        "/", "/healthz", "/admin", "/admin", "/admin", "/join", "/join?lang=en", "/join?lang=%ff",
        "/join?invite=" + token, "/join/confirm/" + token, "/join/confirm/", "/p/" + token + "/x", "/admin?x=" + "y" * 600, "//", "/../../etc/passwd", "/s/", "/u/", "/s//",
        "/%", "/%00", "/s/%ZZ", "*", "http://evil.example/s/" + token, "/" + "a" * rng.randrange(1, 3000),
        "/s/" + token + "?" + "&".join("k%d=v" % i for i in range(rng.randrange(0, 300))),
    ])


def random_headers(rng, body_length):
    headers = [("Host", "127.0.0.1")]
    roll = rng.randrange(10)
    if roll < 7:
        headers.append(("Content-Length", str(body_length)))
    elif roll == 7:
        headers.append(("Content-Length", str(rng.choice([0, body_length + 10, 99999999, -1]))))
    elif roll == 8:
        headers.append(("Transfer-Encoding", "chunked"))
    if rng.random() < 0.6:
        headers.append(("Content-Type", rng.choice(CONTENT_TYPES)))
    if rng.random() < 0.5:
        headers.append(("User-Agent", rng.choice(
            ["", "Mozilla/5.0", "LinkedInBot/1.0", "\x01\x02", "a" * 5000, "HeadlessChrome", "curl/8"])))
    if rng.random() < 0.2:
        headers.append(("Authorization", rng.choice(
            ["Bearer ", "Basic", "Basic !!!", "Basic " + "A" * 4000, "Bearer fuzz-token-0123456789", "Basic OmZ1enotdG9rZW4tMDEyMzQ1Njc4OQ=="])))
    if rng.random() < 0.1:
        headers.append(("X-" + "h" * rng.randrange(1, 200), "v" * rng.randrange(0, 9000)))
    if rng.random() < 0.1:
        headers.extend(("X-Many-%d" % i, "v") for i in range(rng.randrange(1, 200)))
    return headers


def build_request(tokens, rng):
    body = rng.choice(BODIES) if rng.random() < 0.8 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
    if rng.random() < 0.4:
        # Plausible: a real link with a fitting method, so the hostile parts (headers, body) reach the handlers.
        kind, token = rng.choice(tokens)
        method = "POST" if kind in ("u", "p") and rng.random() < 0.7 else rng.choice(["GET", "HEAD"])
        path = "/%s/%s" % (kind, token)
    else:
        method = rng.choice(METHODS)
        path = random_path(tokens, rng)
    headers = random_headers(rng, len(body))
    if any(name == "Transfer-Encoding" for name, _ in headers):
        body = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n" if rng.random() < 0.8 else b"zz\r\n" + body
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % h for h in headers) + "\r\n"
    raw = head.encode("utf-8", "surrogateescape") + body
    if rng.random() < 0.05:  # a request cut short: the server must not wait forever for the rest
        raw = raw[:rng.randrange(1, len(raw))]
    return raw


def exchange(host, port, raw, timeout=5.0):
    """Sends one request; returns the status code, 0 when the server closed without answering (allowed for
    requests cut short or refused at the protocol level), or raises on a hang."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        try:
            connection.sendall(raw)
            connection.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused to read more: fine, as long as it stays up
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n" not in data:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer within %.0f s" % timeout)
            try:
                chunk = connection.recv(4096)
            except ConnectionResetError:
                return 0
            if not chunk:
                return 0
            data += chunk
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


def healthy(host, port):
    return exchange(host, port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 200


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("token_file")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    url = urlparse(args.base_url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("fuzz_http: only loopback servers are fuzzed")
    host, port = url.hostname, url.port
    tokens = [tuple(line.split()) for line in open(args.token_file) if len(line.split()) == 2]
    if not tokens:
        sys.exit("fuzz_http: no tokens in %s" % args.token_file)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    statuses = {}
    started = time.monotonic()
    sent = 0
    while sent < args.requests and time.monotonic() - started < args.seconds:
        raw = build_request(tokens, rng)
        try:
            status = exchange(host, port, raw)
        except (TimeoutError, socket.timeout) as error:
            print("FAIL seed %d request %d: %s\n%r" % (seed, sent, error, raw[:300]))
            return 1
        except ConnectionRefusedError:
            print("FAIL seed %d request %d: the server is gone (crashed?)\n%r" % (seed, sent, raw[:300]))
            return 1
        sent += 1
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500:
            print("FAIL seed %d request %d: answered %d\n%r" % (seed, sent, status, raw[:300]))
            return 1
        if sent % 200 == 0 and not healthy(host, port):
            print("FAIL seed %d after %d requests: /healthz does not answer 200" % (seed, sent))
            return 1
    if not healthy(host, port):
        print("FAIL seed %d after %d requests: /healthz does not answer 200" % (seed, sent))
        return 1
    summary = ", ".join("%s: %d" % (k if k > 0 else "closed", v) for k, v in sorted(statuses.items()))
    print("fuzz_http: %d requests in %.1f s (seed %d), no crash, no hang, no 5xx; answers %s"
          % (sent, time.monotonic() - started, seed, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
