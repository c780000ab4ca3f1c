"""Gunicorn settings for `make serve` (gunicorn reads this file from the working directory).

Everything about the site itself comes from Django's settings; this file only says how to serve it.
"""

import multiprocessing
import os

wsgi_app = "newsroom.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
# Sync workers: each request holds one database connection, reused across requests (CONN_MAX_AGE).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 30
graceful_timeout = 30  # a deploy's SIGTERM lets requests in flight finish
# Recycle workers now and then, so a slow leak never takes a server down; the jitter staggers restarts.
max_requests = 2000
max_requests_jitter = 200
# Django logs every request as JSON (newsroom.request); gunicorn's own access log would say it twice.
accesslog = None
errorlog = "-"
# Which proxies to believe about HTTPS and client addresses is Django's call (DJANGO_PROXY_COUNT), not ours.
forwarded_allow_ips = ""
# Several gunicorns on one machine (tests, blue/green deploys) must not fight over one control socket.
control_socket_disable = True
