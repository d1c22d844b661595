#!/usr/bin/python3
"""Drives click links through nginx with several threads, kills the click server that carries the traffic once a
given number of answers came back, and goes on until every request is answered. Prints one JSON object: the
status of every answer, the request ids (nginx's X-Request-ID) of the redirects, and which server was killed.

usage: click_load.py BASE_URL PATHS_FILE TOTAL THREADS KILL_AFTER ADMIN_TOKEN NAME=PID@URL NAME=PID@URL
Traffic goes to 127.0.0.1 only, TOTAL requests in all.
"""
import http.client
import json
import os
import signal
import sys
import threading
import urllib.parse
import urllib.request


def served_links(url, token):
    """How many /s/ and /l/ requests a server answered, from its own /metrics."""
    request = urllib.request.Request(url + "/metrics", headers={"Authorization": "Bearer " + token})
    total = 0
    with urllib.request.urlopen(request, timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("advocate_http_requests_total") and ('route="/s/' in line or 'route="/l/' in line):
                total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    base, paths_file, total, threads, kill_after, token = sys.argv[1:7]
    servers = {}
    for spec in sys.argv[7:]:
        name, rest = spec.split("=", 1)
        pid, url = rest.split("@", 1)
        servers[name] = (int(pid), url)
    total, threads, kill_after = int(total), int(threads), int(kill_after)
    paths = [line.strip() for line in open(paths_file) if line.strip()]
    target = urllib.parse.urlsplit(base)
    lock = threading.Lock()
    state = {"next": 0, "answers": 0, "killed": None, "servedBeforeKill": {}}
    statuses, redirect_ids, errors = {}, [], []

    def maybe_kill():
        # Called with the lock held, once: the server with the most link requests so far carries the traffic.
        served = {name: served_links(url, token) for name, (pid, url) in servers.items()}
        victim = max(served, key=served.get)
        os.kill(servers[victim][0], signal.SIGKILL)
        state["killed"], state["servedBeforeKill"] = victim, served

    def worker():
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        while True:
            with lock:
                if state["next"] >= total:
                    break
                index = state["next"]
                state["next"] += 1
            path = paths[index % len(paths)]
            try:
                connection.request("GET", path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
                answer = connection.getresponse()
                answer.read()
                status, request_id = answer.status, answer.getheader("X-Request-ID")
            except Exception as error:  # a broken keep-alive connection to nginx: a fresh one, request lost to us
                connection.close()
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                with lock:
                    errors.append(repr(error))
                continue
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 302:
                    redirect_ids.append(request_id)
                state["answers"] += 1
                if state["answers"] == kill_after and state["killed"] is None:
                    try:
                        maybe_kill()
                    except Exception as error:  # reported, so the test says why nothing was killed
                        errors.append("could not kill a server: %r" % error)
        connection.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    survivors = {name: served_links(url, token) for name, (pid, url) in servers.items() if name != state["killed"]}
    print(json.dumps({"statuses": statuses, "redirectIDs": redirect_ids, "errors": errors,
                      "killed": state["killed"], "servedBeforeKill": state["servedBeforeKill"],
                      "survivorsServed": survivors}))


if __name__ == "__main__":
    main()
