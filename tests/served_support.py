"""The app as users run it: a database made by the console commands, served by a real server in a subprocess.

For tests of behaviour that only shows in a real server (for example state kept between requests of one worker),
which Flask's test client cannot see. The demo is made once per database and test session (`DemoTemplates`) and
each test serves a copy of it (`demo_copy`): making it took longer than all the rest.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, inspect, make_url, text

from audit.database import Base, make_engine
from audit.migrate import upgrade
from audit.settings import PROJECT_ROOT
from tests.conftest import fresh_database, make_test_app

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def app_environment(database_url: str, instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TRYGGAHUS_DATABASE_URL": database_url,
        "TRYGGAHUS_INSTANCE_PATH": str(instance),
        "TRYGGAHUS_SECRET_KEY": secrets.token_hex(32),
    }


def tryggahus(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run the console script; a failure fails the test with what the command said."""
    result = subprocess.run(
        [str(BIN / "tryggahus"), *args],
        env=env,
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"tryggahus {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


#: The demo's second organisation and its admin (another tenant, for the tests that interleave organisations).
OTHER_SLUG = "other"
OTHER_ADMIN = "admin@other.example"
OTHER_PASSWORD = "another organisation's admin"


@dataclass(frozen=True)
class DemoTemplate:
    """A database made by the commands `init` and `demo`, with a second organisation and its admin made by
    `org create` and `user create`; kept to be copied, never served itself. `folder` is its instance folder (the
    demo's photos)."""

    kind: str
    url: str
    folder: Path


class DemoTemplates:
    """One demo template per database kind, made on first use and removed at the end of the session."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._made: dict[str, DemoTemplate] = {}
        self._databases = contextlib.ExitStack()

    def get(self, kind: str) -> DemoTemplate:
        if kind not in self._made:
            folder = self._tmp_path_factory.mktemp(f"demo-template-{kind}")
            url = self._databases.enter_context(fresh_database(kind, folder))
            _make_demo(url, folder)
            self._made[kind] = DemoTemplate(kind, url, folder)
        return self._made[kind]

    def close(self) -> None:
        self._databases.close()


def _make_demo(url: str, folder: Path) -> None:
    """The console commands, run in this process (the console script itself is run by other tests: a process of
    its own per command cost three times as much). The test app hashes the passwords cheaply (see conftest)."""
    app = make_test_app(url, folder)
    runner = app.test_cli_runner()
    user = ["user", "create", "--org", OTHER_SLUG, "--email", OTHER_ADMIN, "--role", "admin"]
    commands: list[tuple[list[str], str | None]] = [
        (["init"], None),
        (["demo"], None),
        (["org", "create", "--slug", OTHER_SLUG, "--name", "Andra bostäder AB"], None),
        (user, OTHER_PASSWORD + "\n"),
    ]
    try:
        for args, stdin in commands:
            result = runner.invoke(args=args, input=stdin)
            assert result.exit_code == 0, f"{' '.join(args)}: {result.output[-2000:]}\n{result.exception!r}"
    finally:
        app.extensions["tryggahus.database"].engine.dispose()


@contextlib.contextmanager
def demo_copy(template: DemoTemplate, folder: Path) -> Iterator[str]:
    """A new test database (see `fresh_database`) holding the template's rows, and the template's photo files in
    `folder`, the copy's instance folder. On PostgreSQL the new schema is migrated as `tryggahus init` does and the
    rows are copied table by table; a SQLite file is copied with SQLite's backup API."""
    if (template.folder / "photos").is_dir():
        shutil.copytree(template.folder / "photos", folder / "photos")
    with fresh_database(template.kind, folder) as url:
        if template.kind == "sqlite":
            _copy_sqlite(template.url, url)
        else:
            _copy_postgresql(template.url, url)
        yield url


def _copy_sqlite(source_url: str, target_url: str) -> None:
    with (
        contextlib.closing(sqlite3.connect(str(make_url(source_url).database))) as source,
        contextlib.closing(sqlite3.connect(str(make_url(target_url).database))) as target,
    ):
        source.backup(target)


def _schema(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT current_schema()")).scalar_one())


def _copy_postgresql(source_url: str, target_url: str) -> None:
    source, target = make_engine(source_url), make_engine(target_url)
    try:
        upgrade(target)
        source_schema = _schema(source)
        with target.begin() as connection:
            tables = Base.metadata.sorted_tables  # parents before the rows that refer to them
            present = set(inspect(connection).get_table_names()) - {"alembic_version"}
            assert present == {table.name for table in tables}, "the copy would miss tables the models do not name"
            for table in tables:
                # A generated column (such as remediation_tasks.severity_rank) is computed anew by the target.
                columns = ", ".join(f'"{column.name}"' for column in table.columns if column.computed is None)
                source_table = f'"{source_schema}"."{table.name}"'
                connection.execute(text(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM {source_table}'))
                _advance_sequences(connection, table.name, [c.name for c in table.primary_key.columns])
    finally:
        source.dispose()
        target.dispose()


def _advance_sequences(connection: Connection, table: str, keys: list[str]) -> None:
    """Rows were copied with their ids: the id sequences continue after the largest."""
    for key in keys:
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table, "column": key}
        ).scalar_one()
        if sequence is not None:
            connection.execute(
                text(f'SELECT setval(:sequence, coalesce((SELECT max("{key}") FROM "{table}"), 0) + 1, false)'),
                {"sequence": sequence},
            )


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


@contextlib.contextmanager
def served(command: list[str], env: dict[str, str], folder: Path, port: int) -> Iterator[RunningServer]:
    """Start `command` (a server listening on `port`), wait until it answers, and stop it with its workers."""
    log = folder / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = RunningServer(process, port, log)
    try:
        _wait_until_answering(server)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_until_answering(server: RunningServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{server.url}/login", timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.05)  # a refused connection costs nothing: every server start is waited for, so look often
    raise AssertionError(f"the server did not answer within {timeout:.0f} s:\n{server.log_tail()}")


@dataclass
class Browser:
    """One user's cookies against a running server, as a browser keeps them."""

    server: RunningServer
    cookies: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)
    #: Where the last request ended up, after redirects.
    last_url: str = ""

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str]:
        return self._send(urllib.request.Request(self.server.url + path))

    def post(self, path: str, form: dict[str, str], *, token_from: str) -> tuple[int, str]:
        """Post a form with the CSRF token of the page `token_from`, as the page's own form would."""
        status, page = self.get(token_from)
        match = _CSRF.search(page)
        assert status == 200, f"{token_from} answered {status}"
        assert match, f"no CSRF token on {token_from}"
        body = urllib.parse.urlencode({**form, "csrf_token": match.group(1)}).encode()
        return self._send(urllib.request.Request(self.server.url + path, data=body, method="POST"))

    def login(self, email: str, password: str) -> None:
        status, page = self.post("/login", {"email": email, "password": password}, token_from="/login")
        assert status == 200, f"login of {email} answered {status}"
        assert "/logout" in page, f"login of {email} failed"

    def get_bytes(self, path: str) -> tuple[int, bytes]:
        """A download: the status and the body as it came."""
        return self._fetch(urllib.request.Request(self.server.url + path))

    def _send(self, request: urllib.request.Request) -> tuple[int, str]:
        status, body = self._fetch(request)
        return status, body.decode(errors="replace")

    def _fetch(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with self.opener.open(request, timeout=30) as response:
                self.last_url = response.geturl()  # after the redirects the opener followed
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


class Link:
    """The network between a browser and a served app, which a test can cut and restore.

    The browser talks to the link's port; the link passes every byte on to the app. Cut, it closes every open
    connection and listens no more, so a new connection is refused at once: to the browser, and to its service
    worker (whose requests Chromium's offline mode does not stop), the app is out of reach while it keeps running.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._up = False
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def up(self) -> bool:
        return self._up

    def restore(self) -> None:
        listener = socket.create_server((HOST, self.port))  # SO_REUSEADDR: the same port again at once
        listener.settimeout(0.1)
        self._listener, self._up = listener, True
        threading.Thread(target=self._accept, args=(listener,), name="link-accept", daemon=True).start()

    def cut(self) -> None:
        self._up = False
        with self._lock:
            doomed = [*self._sockets, *([self._listener] if self._listener else [])]
            self._sockets.clear()
            self._listener = None
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._up and self._listener is listener:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection((HOST, self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), name="link-pump", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        # One side ended its connection: so does the other (HTTP needs no half-open connections).
        with self._lock:
            self._sockets.difference_update((source, sink))
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
