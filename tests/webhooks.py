"""A real webhook receiver for the tests and the bench, and the task queue run as a worker runs it."""

import contextlib
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection
from django.test import TestCase


def verify(secret, header, body, tolerance=300):
    """The recipe in docs/api.md (Webhooks), as a receiver writes it: the signature is the HMAC-SHA256 of
    "<t>.<body>" with the subscriber's secret, and `t` is recent (a replayed delivery is refused)."""
    fields = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - timestamp) <= tolerance


class Received:
    def __init__(self, path, headers, body):
        self.path, self.headers, self.body = path, headers, body
        self.at = time.monotonic()

    @property
    def event(self):
        return self.headers["X-Newsroom-Event"]

    @property
    def delivery(self):
        return self.headers["X-Newsroom-Delivery"]

    def json(self):
        return json.loads(self.body)

    def signed_with(self, secret):
        return verify(secret, self.headers["X-Newsroom-Signature"], self.body)

    def __repr__(self):
        return f"<{self.event} {self.body[:80]!r}>"


class Receiver:
    """An HTTP server on loopback, in a thread, that records every POST; it answers with `answers` in turn, then
    200."""

    def __init__(self, answers=()):
        self.requests = []
        self.answers = list(answers)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        with self.lock:
            return [request.event for request in self.requests]

    def wait_for(self, count, timeout=15):
        """The requests, once there are `count` of them (or the timeout is reached)."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        with self.lock:
            return list(self.requests)


def run_tasks():
    """Run the queued tasks that are due, in this process, as a worker does (what each queues when it commits
    included), until none is left. Returns how many ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    while (row := DBTaskResult.objects.ready().order_by("enqueued_at", "id").first()) is not None:
        row.claim("test")
        with TestCase.captureOnCommitCallbacks(execute=True):
            value = row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        row.set_successful(value)
        ran += 1
    return ran


@contextlib.contextmanager
def committing():
    """What the block changes commits, as a request's change would (the test's transaction stays open): what it
    queues on commit is queued, then the queue is run. What the test changed before the block is taken as
    committed first (in the test's open transaction its callbacks would wait, and later changes join them)."""
    earlier = list(connection.run_on_commit)
    connection.run_on_commit.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _, callback, _ in earlier:
            callback()
        yield
    run_tasks()


def settle():
    """Everything the test changed so far has committed, and the workers have run."""
    with committing():
        pass
