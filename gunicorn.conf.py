"""Gunicorn settings for `make serve` (gunicorn reads this file from the working directory).

Everything about the site itself comes from Django's settings; this file only says how to serve it.
"""

import gc
import multiprocessing
import os

wsgi_app = "newsroom.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
# Sync workers: each request holds one database connection, reused across requests (CONN_MAX_AGE).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 30
graceful_timeout = 30  # a deploy's SIGTERM lets requests in flight finish
# The app is loaded once, in the master, and workers are forked from it: a worker replaced after
# max_requests serves within milliseconds instead of importing Django again while its requests queue
# (under load that import was the slowest one per cent of requests), and the workers share its memory.
# Nothing connects to the database or the cache at import time, so no connection is shared across a fork.
preload_app = True
# Recycle workers now and then, so a slow leak never takes a server down; the jitter staggers restarts.
# Not too often: a new worker compiles its templates and queries and reads what is kept per content version
# on its first requests, and at 1,200 req/s a worker (cached pages) reached 10,000 requests every 8 s (8 s
# runs: 2,085-2,401 req/s, p99 10-17 ms, against 2,331-2,380 req/s, p99 9.5-12 ms with 100,000).
max_requests = 100000
max_requests_jitter = 10000
# Django logs every request as JSON (newsroom.request); gunicorn's own access log would say it twice.
accesslog = None
errorlog = "-"
# Which proxies to believe about HTTPS and client addresses is Django's call (DJANGO_PROXY_COUNT), not ours.
forwarded_allow_ips = ""
# Several gunicorns on one machine (tests, blue/green deploys) must not fight over one control socket.
control_socket_disable = True


def pre_fork(server, worker):
    """Keep the loaded app out of the garbage collector's way in the workers (gc.freeze's own advice
    for a fork without exec): collections then walk only what a request allocated, and never write to
    the pages the workers share with the master."""
    gc.freeze()
