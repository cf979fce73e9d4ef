"""moto's server, as `python3 -m moto.server` runs it, plus a clock on every call.

The benchmark needs to say how much of a cold start is moto's own work. Each
HTTP request moto serves is stamped with CLOCK_MONOTONIC (one clock for every
process on the machine): from the moment its request line has been read until
its response has been written, so the stamp covers moto's HTTP parsing, the
backend and the response, everything but the TCP accept. `GET /__bench/calls`
returns the stamps as JSON and forgets them.

Usage: python3 moto_timed.py PORT
"""

import json
import sys
import threading
import time

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple

_calls = []
_lock = threading.Lock()


class TimedHandler(WSGIRequestHandler):
    def parse_request(self):
        self._bench_start = time.monotonic_ns()
        return super().parse_request()

    def handle_one_request(self):
        self._bench_start = None
        super().handle_one_request()
        if self._bench_start is not None and self.path != "/__bench/calls":
            with _lock:
                _calls.append([self._bench_start, time.monotonic_ns(),
                               self.headers.get("X-Amz-Target") or self.path])


def app_with_calls(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") != "/__bench/calls":
            return app(environ, start_response)
        with _lock:
            body = json.dumps(_calls).encode()
            _calls.clear()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return wrapped


def main():
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, app_with_calls(app), threaded=True,
               request_handler=TimedHandler)


if __name__ == "__main__":
    main()
