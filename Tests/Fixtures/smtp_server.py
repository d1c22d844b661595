#!/usr/bin/python3
"""A real SMTP server for Advocate's end-to-end tests, built on aiosmtpd (Debian's python3-aiosmtpd).

Every accepted message is written to DIR/NNNNN.eml and a line "recipient<TAB>message-id" is appended to DIR/log,
flushed at once, so a test can count exactly what arrived even when the client is killed mid-run.

Faults are chosen by the recipient's local part, so one server exercises every case at once:
  rcpt451-*   first RCPT for the address answers 451, later ones succeed
  rcpt550-*   RCPT always answers 550
  rcpt421-*   RCPT always answers 421 (a relay's rate limit: the connection stays open)
  data454-*   first time: 454 after the message, nothing stored; later: accepted
  drop-*      the message is stored, then the connection is cut before the reply (client cannot know)
  stall-*     RCPT never answers (the client times out before sending the message)
  stallonce-* the first RCPT for the address never answers; later ones succeed
  stalldata-* the message is stored, then no reply ever comes (the client times out after the final dot)
  hold-*      the message is stored, then the reply waits until the file DIR/release exists (at most a minute)
--reject-connections N answers the first N connections with "421 busy" and hangs up.
Every client connection adds a line to DIR/connections, every RCPT left unanswered one to DIR/stalls.

Prints "READY <port> <certificate or ->" on stdout once listening.
"""
import argparse
import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


class State:
    reject_left = 0
    seen = set()
    counter = 0
    directory = "."


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.log = open(os.path.join(directory, "log"), "a", buffering=1)

    def store(self, envelope):
        State.counter += 1
        with open(os.path.join(self.directory, "%06d.eml" % State.counter), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        for rcpt in envelope.rcpt_tos:
            self.log.write("%s\t%s\t%s\n" % (rcpt, headers.get("Message-ID", ""), envelope.mail_from))
        self.log.flush()
        os.fsync(self.log.fileno())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("rcpt550-"):
            return "550 5.1.1 No such user here"
        if local.startswith("rcpt421-"):
            return "421 4.7.0 Too many messages, try again later"
        if local.startswith("rcpt451-") and ("rcpt", address) not in State.seen:
            State.seen.add(("rcpt", address))
            return "451 4.3.0 Try again later"
        if local.startswith("stall-"):
            note_stall(address)
            await asyncio.sleep(3600)
        if local.startswith("stallonce-") and ("stall", address) not in State.seen:
            State.seen.add(("stall", address))
            note_stall(address)
            await asyncio.sleep(3600)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        local = envelope.rcpt_tos[0].split("@")[0]
        if local.startswith("data454-") and ("data", envelope.rcpt_tos[0]) not in State.seen:
            State.seen.add(("data", envelope.rcpt_tos[0]))
            return "454 4.7.0 Temporary failure, try again"
        self.store(envelope)
        if local.startswith("drop-"):
            server.transport.abort()
            return "250 OK"
        if local.startswith("stalldata-"):
            await asyncio.sleep(3600)
        if local.startswith("hold-"):
            for _ in range(6000):
                if os.path.exists(os.path.join(self.directory, "release")):
                    break
                await asyncio.sleep(0.01)
        return "250 Message accepted"


def note_stall(address):
    """A line in DIR/stalls for every RCPT left unanswered, so a test knows the client is waiting on it."""
    with open(os.path.join(State.directory, "stalls"), "a") as f:
        f.write(address + "\n")


class FaultySMTP(SMTP):
    async def _handle_client(self):
        with open(os.path.join(State.directory, "connections"), "a") as f:
            f.write("connect\n")
        if State.reject_left > 0:
            State.reject_left -= 1
            await self.push("421 4.3.2 Too busy, try again later")
            self.transport.close()
            return
        return await super()._handle_client()


class FaultyController(Controller):
    def factory(self):
        return FaultySMTP(self.handler, **self.SMTP_kwargs)


def make_certificate(directory):
    key = os.path.join(directory, "key.pem")
    cert = os.path.join(directory, "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    return cert, key


def main():
    # Test runners may start us with signals blocked; make SIGTERM work again.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--tls", action="store_true", help="offer and require STARTTLS")
    parser.add_argument("--auth", help="USER:PASSWORD required for AUTH")
    parser.add_argument("--reject-connections", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    State.directory = args.directory

    kwargs = {}
    cert = "-"
    if args.tls:
        cert, key = make_certificate(tempfile.mkdtemp(prefix="advocate-smtp-"))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        kwargs.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_require_tls=args.tls, auth_required=True)

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = FaultyController(Handler(args.directory), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    State.reject_left = args.reject_connections  # after start(): the controller's own readiness probe is not a client
    print("READY %d %s" % (port, cert), flush=True)
    try:
        sys.stdin.read()  # run until the test closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
