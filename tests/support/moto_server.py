"""moto for the black-box tests and the benchmark: moto's app served by waitress,
with a clock on every call. `runtime::moto_url()` starts it.

Why not `python3 -m moto.server`: its HTTP server (werkzeug's development
server) closes the connection after every response and starts a thread per
connection, so each AWS call costs a TCP handshake that a real endpoint does
not add (DynamoDB and SES keep connections alive and the SDKs pool them).
waitress keeps them alive and serves from a fixed pool of threads; the moto
app is the same either way.

Each call is stamped from the moment moto's app is called until its response
body is complete (moto's own work, without waitress's HTTP parsing), so the
benchmark can say how much of a cold start is moto's. `GET /__calls` answers
the calls since the last look as [[started_ns_ago, took_ns, target], ...] and
forgets them; the ages are relative to that answer, so the caller needs no
shared clock. The last 100,000 calls are kept: a long test run never looks.

Usage: python3 moto_server.py PORT
"""

import collections
import json
import sys
import threading
import time

import waitress
from moto.server import DomainDispatcherApplication, create_backend_app

_calls = collections.deque(maxlen=100_000)
_lock = threading.Lock()


def timed(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/__calls":
            now = time.monotonic_ns()
            with _lock:
                calls = [[now - start, end - start, target] for start, end, target in _calls]
                _calls.clear()
            body = json.dumps(calls).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        start = time.monotonic_ns()
        body = b"".join(app(environ, start_response))
        with _lock:
            _calls.append((start, time.monotonic_ns(),
                           environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO")))
        return [body]
    return wrapped


def main():
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    # Many functions and SDK pools share one moto in a test binary: lift
    # waitress's connection limit (100) and use poll(), which has no fd ceiling.
    waitress.serve(timed(app), host="127.0.0.1", port=port, threads=4, _quiet=True,
                   connection_limit=1000, asyncore_use_poll=True)


if __name__ == "__main__":
    main()
