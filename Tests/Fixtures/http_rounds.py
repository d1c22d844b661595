"""Raw HTTP/1.1 over one connection, in rounds, for tests of answer order.

Usage: http_rounds.py PORT ROUNDS_JSON
ROUNDS_JSON is a list of rounds: {"send": ["raw request text", ...], "answers": N, "halfClose": false}.
Each round's requests go out in one write (pipelined); then N answers are read. With halfClose the client shuts
its side for writing after the round's write. Prints, as JSON, a list per round of "STATUS LOCATION-or-body-prefix"
(the first 2 characters of the body when there is no Location), and "closed" if the server closed early.
"""
import json
import socket
import sys

port, rounds = int(sys.argv[1]), json.loads(sys.argv[2])
connection = socket.create_connection(("127.0.0.1", port), timeout=10)
data = b""
results = []


def next_answer():
    global data
    while True:
        head, separator, rest = data.partition(b"\r\n\r\n")
        if separator:
            lines = head.decode("latin-1").split("\r\n")
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            length = int(fields.get("content-length", "0"))
            if len(rest) >= length:
                body = rest[:length].decode("utf-8", "replace")
                data = rest[length:]
                return lines[0].split(" ")[1] + " " + fields.get("location", body[:2])
        more = connection.recv(65536)
        if not more:
            return None
        data += more


for round_ in rounds:
    connection.sendall("".join(round_["send"]).encode())
    if round_.get("halfClose"):
        connection.shutdown(socket.SHUT_WR)
    answers = []
    for _ in range(round_["answers"]):
        answer = next_answer()
        if answer is None:
            answers.append("closed")
            break
        answers.append(answer)
    results.append(answers)
print(json.dumps(results))
