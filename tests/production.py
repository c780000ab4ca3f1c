"""Helpers for tests that run the site the way production does: real processes, PostgreSQL, Redis.

These tests use this machine's PostgreSQL and Redis whatever database the rest of the suite runs on,
each in a throwaway database and under a throwaway key prefix.
"""

import atexit
import contextlib
import functools
import http.client
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
import redis

BASE_DIR = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("NEWSROOM_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("NEWSROOM_TEST_REDIS", "redis://127.0.0.1:6379/14")

running_test_markers = set()  # set by tests/conftest.py before each test


def require_marker(name, what):
    """`make test-fast` leaves out the tests marked as needing more than Python and SQLite (pyproject.toml):
    a test that starts one of these without saying so would make it slow or fail where those are missing."""
    if name not in running_test_markers:
        pytest.fail(f"this test uses {what}: mark it @pytest.mark.{name} (pyproject.toml)", pytrace=False)


@contextlib.contextmanager
def postgres_database(template=None):
    """A new PostgreSQL database, empty or a copy of the database `template`; yields its URL and drops it
    afterwards."""
    require_marker("production", "this machine's PostgreSQL")
    name = f"newsroom_test_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def redis_prefix():
    """A key prefix no one else uses; its keys are deleted afterwards."""
    require_marker("production", "this machine's Redis")
    prefix = f"newsroom-test-{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def production_env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_"))}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_LOG_LEVEL="WARNING",
        REDIS_URL=REDIS,
    )
    env.update(overrides)
    return env


def manage(*args, env, check=True):
    """`manage.py *args` in a process of its own; with check, a failure ends the test with what it printed."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode:
        raise AssertionError(f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def query(env, sql, *params):
    """The rows of one SELECT (placeholders: %s) on the site's database (env's DATABASE_URL), asked directly:
    in milliseconds, where a `manage.py shell` takes a second of CPU from the processes a test watches."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as connection:
            return connection.execute(sql.replace("%s", "?"), params).fetchall()
    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


def shell(script, env):
    """Run a script in `manage.py shell`; what it printed last, read as JSON."""
    return json.loads(manage("shell", "-v0", "-c", script, env=env).stdout.strip().splitlines()[-1])


@functools.cache
def static_root():
    """The static files, collected once per test run (it takes seconds) into a folder removed at exit."""
    root = Path(tempfile.mkdtemp(prefix="newsroom-static-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    manage("collectstatic", "--noinput", "-v0", env=production_env(DJANGO_STATIC_ROOT=str(root)))
    return root


DATABASES = ["sqlite", "postgres"]  # what the site tests run on, as fixture params


@functools.cache
def migrated_template(database):
    """A database of this kind ("sqlite": a file; "postgres": the name of one on this machine's) migrated by
    `manage.py migrate` in a process of its own, as a release migrates, once per test run; removed at exit.
    Sites are copies of it (migrated_database): a migrate takes 6-12 s here, a copy a fraction of a second,
    and the copy is the database that migrate made, schema, triggers, statistics and data migrations' rows."""
    env = production_env()
    del env["REDIS_URL"]
    if database == "postgres":
        name = f"newsroom_template_{secrets.token_hex(4)}"
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_postgres_database, name)
        manage("migrate", "--noinput", "-v0", env={**env, "DATABASE_URL": f"{POSTGRES}/{name}"})
        return name
    folder = Path(tempfile.mkdtemp(prefix="newsroom-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    manage("migrate", "--noinput", "-v0", env={**env, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}"})
    return folder / "db.sqlite3"


def _drop_postgres_database(name):
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def migrated_database(database, folder):
    """A new database ("sqlite": db.sqlite3 in `folder`; "postgres": this machine's), migrated: a copy of
    migrated_template(database). Yields its DATABASE_URL; a PostgreSQL one is dropped afterwards."""
    if database == "postgres":
        require_marker("production", "this machine's PostgreSQL")
        with postgres_database(template=migrated_template(database)) as url:
            yield url
        return
    path, template = folder / "db.sqlite3", migrated_template(database)
    with contextlib.closing(sqlite3.connect(template)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)  # through SQLite, page by page: whatever its journal holds
    yield f"sqlite:///{path}"


@contextlib.contextmanager
def site_env(database, folder, *, static=False, **overrides):
    """The environment of a site's processes (app servers, workers, commands) as production sets it, on a
    new database ("sqlite": a file in `folder`; "postgres": this machine's) migrated; media and uploads
    in `folder`, static files collected if `static`, each process caching in its own memory (no Redis).
    `overrides`: more of the environment."""
    with migrated_database(database, folder) as url:
        env = production_env(
            DATABASE_URL=url,
            DJANGO_PROXY_COUNT="1",
            DJANGO_MEDIA_ROOT=str(folder / "media"),
            DJANGO_IMPORT_ROOT=str(folder / "imports"),
            **({"DJANGO_STATIC_ROOT": str(static_root())} if static else {}),
            **overrides,
        )
        del env["REDIS_URL"]
        yield env


@contextlib.contextmanager
def started(args, env, stop_within=15):
    """A process of this project (`python *args`), its output kept in a file (a full pipe would block it)
    that process.output() reads. Stopped afterwards if still running, with SIGTERM as the process manager
    stops it, killed if it has not ended within `stop_within` seconds."""
    require_marker("production", "processes of its own")
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, *args], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.output = lambda: (log.seek(0), log.read().decode(errors="replace"))[1]
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=stop_within)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output = process.output()
        process.output = lambda: output
        log.close()


@contextlib.contextmanager
def db_worker(env, interval=0.2):
    """One background worker, as `make worker` runs it, polling every `interval` seconds."""
    command = ["manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", str(interval)]
    with started(command, env) as process:
        yield process


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(port, env, workers=1):
    """One app server, as `make serve` starts it (gunicorn.conf.py), with `workers` workers; stopped afterwards."""
    require_marker("production", "gunicorn")
    command = ["-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with started(command, env) as process:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {process.output()}")
            time.sleep(0.2)
        yield process


# A browser without JavaScript, for driving the admin over real HTTP: a cookie jar, forms read from the
# page and posted back as a browser posts them (CSRF token included, textareas with CRLF line breaks),
# redirects not followed (look at them, or follow them yourself).

# What the load balancer adds in production: the reader used HTTPS, from this address.
THROUGH_THE_LOAD_BALANCER = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # an http.client.HTTPMessage: case-insensitive, get_all() for repeats
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def location(self):
        return self.headers.get("Location", "")

    def __repr__(self):
        return f"<Response {self.status} {self.headers.get('Content-Type', '')}>"


def http_get(port, path, headers=THROUGH_THE_LOAD_BALANCER, timeout=10):
    """One GET on a new connection (so any of the server's workers may answer it), as an anonymous reader."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={**headers, "Connection": "close"})
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


class Form:
    """A <form> as a browser sees it: where it posts, and the name/value pairs it would submit."""

    def __init__(self, attrs):
        self.attrs = attrs
        self.fields = []  # [(name, value)] in document order; a file input's value is FILE (no file chosen)
        self.buttons = []  # [(name, value)] of named submit buttons

    @property
    def action(self):
        return self.attrs.get("action") or ""

    @property
    def multipart(self):
        return self.attrs.get("enctype", "").lower() == "multipart/form-data"

    def get(self, name, default=None):
        return next((value for field, value in self.fields if field == name), default)

    def set(self, name, value):
        """Set a field the page has (as typing into it would); textareas' line breaks become CRLF."""
        assert any(field == name for field, _ in self.fields), f"the form has no field {name!r}"
        value = crlf(value) if isinstance(value, str) else value
        self.fields = [(field, value if field == name else old) for field, old in self.fields]

    def add(self, name, value):
        self.fields.append((name, crlf(value) if isinstance(value, str) else value))

    def names(self):
        return [name for name, _ in self.fields]


FILE = object()  # a file input with no file chosen


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._textarea = None  # [name, [text]]
        self._select = None  # {"name", "multiple", "options": [value], "selected": [value]}
        self._option = None  # [value or None, selected, [text]]

    def handle_starttag(self, tag, attrs):
        attrs = {name: "" if value is None else value for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(attrs))
            return
        if not self.forms or "disabled" in attrs:
            return
        form, name = self.forms[-1], attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.buttons.append((name, attrs.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    form.fields.append((name, attrs.get("value", "on")))
            elif kind == "file":
                form.fields.append((name, FILE))
            elif kind not in ("button", "reset"):
                form.fields.append((name, attrs.get("value", "")))
        elif tag == "button" and name and attrs.get("type", "submit").lower() == "submit":
            form.buttons.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = [name, []]
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attrs, "options": [], "selected": []}
        elif tag == "option" and self._select is not None:
            self._end_option()
            self._option = [attrs.get("value"), "selected" in attrs, []]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option[2].append(data)

    def _end_option(self):
        if self._option is not None:
            value, selected, text = self._option
            value = " ".join("".join(text).split()) if value is None else value
            self._select["options"].append(value)
            if selected:
                self._select["selected"].append(value)
            self._option = None

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            text = "".join(text)
            if text.startswith("\n"):  # HTML drops a line break right after <textarea>
                text = text[1:]
            self.forms[-1].fields.append((name, crlf(text)))  # browsers submit CRLF line breaks
            self._textarea = None
        elif tag == "option" and self._select is not None:
            self._end_option()
        elif tag == "select" and self._select is not None:
            self._end_option()
            select = self._select
            chosen = select["selected"] or ([] if select["multiple"] else select["options"][:1])
            self.forms[-1].fields.extend((select["name"], value) for value in chosen)
            self._select = None


def forms_in(html):
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


class Browser:
    """One person's browser session against one app server (through the load balancer, over "HTTPS")."""

    def __init__(self, port, headers=THROUGH_THE_LOAD_BALANCER):
        self.port = port
        self.headers = dict(headers)
        self.cookies = {}
        self.origin = f"https://127.0.0.1:{port}"

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {**self.headers, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            result = Response(response.status, response.headers, response.read())
        finally:
            connection.close()
        for cookie in result.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            expired = "max-age=0" in cookie.lower().replace(" ", "") or "01 jan 1970" in cookie.lower()
            if expired or value in ("", '""'):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return result

    def get(self, path):
        return self.request("GET", path)

    def form(self, path, *, having=None, response=None):
        """GET the page (unless given its response) and return its form that has the field `having` (or the
        last form on the page), with the page's address to post to."""
        response = response or self.get(path)
        assert response.status == 200, f"GET {path}: {response.status}\n{response.text[:2000]}"
        forms = forms_in(response.text)
        candidates = [form for form in forms if having is None or having in form.names()]
        assert candidates, f"no form with {having!r} on {path}"
        form = candidates[-1]
        form.page = path
        return form

    def submit(self, form, button=None, files=None):
        """POST the form as a browser does: to its action (or the page's own address), with the button
        clicked (name, value), urlencoded or multipart as the form says; files: {name: (filename, bytes)}."""
        fields = list(form.fields)
        if button is not None:
            fields.append(button)
        action = form.action or form.page
        if not action.startswith("/"):
            action = form.page.rsplit("?", 1)[0]
        headers = {"Origin": self.origin, "Referer": f"{self.origin}{form.page}"}
        if form.multipart or files:
            boundary = f"----NewsroomTestBoundary{secrets.token_hex(8)}"
            body = multipart(fields, files or {}, boundary)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode([(name, value) for name, value in fields if value is not FILE]).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("POST", action, body=body, headers=headers)

    def log_in(self, username, password, admin="/admin/"):
        form = self.form(f"{admin}login/?next={admin}", having="username")
        form.set("username", username)
        form.set("password", password)
        response = self.submit(form)
        assert response.status == 302, f"logging in as {username}: {response.status}\n{response.text[:2000]}"
        assert "sessionid" in self.cookies
        return response


def multipart(fields, files, boundary):
    parts = []
    for name, value in fields:
        if value is FILE:
            filename, content = files.get(name, ("", b""))
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        else:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + str(value).encode()
                + b"\r\n"
            )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)
