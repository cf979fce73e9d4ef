"""moto's server for the benchmark: moto's app on waitress, plus a clock on every call.

Why not `python3 -m moto.server`: its HTTP server (werkzeug's development
server) closes the connection after every response and starts a thread for
every connection, so each AWS call costs a TCP handshake and a thread start
that a real AWS endpoint does not add (DynamoDB and SES keep connections
alive, and every SDK here pools them). waitress keeps them alive (HTTP/1.1)
and serves from a fixed pool of threads, which is closer to what a function
meets on AWS; it is the same moto app either way. Measured once on this
machine (10 interleaved rounds, medians): with werkzeug the product's cold
start was 17.9 ms and Python's 232 ms, with waitress 16.4 ms and 232 ms.

The benchmark also needs to say how much of a cold start is moto's own work.
Each call moto serves is stamped with CLOCK_MONOTONIC (one clock for every
process on the machine) from the moment moto's app is called until its
response body is complete: moto's backend and response, without waitress's
HTTP parsing and socket writes. `GET /__bench/calls` returns the stamps as
JSON and forgets them.

Usage: python3 moto_timed.py PORT
"""

import json
import sys
import threading
import time

import waitress
from moto.server import DomainDispatcherApplication, create_backend_app

_calls = []
_lock = threading.Lock()


def timed(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/__bench/calls":
            with _lock:
                body = json.dumps(_calls).encode()
                _calls.clear()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        start = time.monotonic_ns()
        body = b"".join(app(environ, start_response))
        with _lock:
            _calls.append([start, time.monotonic_ns(),
                           environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO")])
        return [body]
    return wrapped


def main():
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    waitress.serve(timed(app), host="127.0.0.1", port=port, threads=4, _quiet=True)


if __name__ == "__main__":
    main()
