"""Driving a scenario of `make bench` with wrk, the native HTTP load generator (Debian's `wrk` package).

wrk runs its requests from a Lua script that this module writes per scenario: each wrk thread takes its own share
of the scenario's paths (as one inspector's tablet saves its own items), cycles through the bodies, and, where the
scenario says so, sends a new Idempotency-Key with every request. Every response whose status is not the expected
one counts as an error; `done()` prints one JSON line with the totals and wrk's own latency percentiles, so
nothing is read from wrk's human-readable report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WRK = "wrk"


@dataclass(frozen=True)
class Load:
    """What a scenario sends, declared once for wrk and for the Python fallback."""

    method: str
    #: Cycled; each client (a wrk thread, or a Python thread) takes every n-th.
    paths: tuple[str, ...]
    expect: int
    headers: dict[str, str] = field(default_factory=dict)
    #: Cycled per request; empty for a request without a body.
    bodies: tuple[bytes, ...] = ()
    #: A new Idempotency-Key for every request.
    new_key_each_time: bool = False
    #: In each body, KEY_PLACEHOLDER is replaced by a string new for every request (a batch's own keys per entry).
    keyed_bodies: bool = False


#: What `Load.keyed_bodies` replaces (no character of it is special in a Lua pattern or in JSON).
KEY_PLACEHOLDER = "@@KEY@@"


def available() -> bool:
    return shutil.which(WRK) is not None


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of plain text is a valid Lua string literal


def lua_script(load: Load, run_id: str, threads: int) -> str:
    paths = ", ".join(_lua_string(path) for path in load.paths)
    bodies = ", ".join(_lua_string(body.decode()) for body in load.bodies) or '""'
    headers = "\n".join(f"  [{_lua_string(k)}] = {_lua_string(v)}," for k, v in load.headers.items())
    return f"""
local all_paths = {{{paths}}}
local bodies = {{{bodies}}}
local headers = {{
{headers}
}}
local new_key = {"true" if load.new_key_each_time else "false"}
local keyed_bodies = {"true" if load.keyed_bodies else "false"}
local expect = {load.expect}
local thread_total = {threads}
local threads = {{}}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  own = {{}}
  for i = id + 1, #all_paths, thread_total do table.insert(own, all_paths[i]) end
  if #own == 0 then own = all_paths end
  sent = 0
  errors = 0
end

function request()
  sent = sent + 1
  local path = own[(sent % #own) + 1]
  local key = "{run_id}-" .. id .. "-" .. sent
  if new_key then headers["Idempotency-Key"] = key end
  local body = nil
  if bodies[1] ~= "" then body = bodies[(sent % #bodies) + 1] end
  if keyed_bodies then body = string.gsub(body, "{KEY_PLACEHOLDER}", key) end
  return wrk.format("{load.method}", path, headers, body)
end

function response(status, _headers, _body)
  if status ~= expect then errors = errors + 1 end
end

function done(summary, latency, _requests)
  local errors_total = 0
  for _, thread in ipairs(threads) do errors_total = errors_total + thread:get("errors") end
  local socket = summary.errors
  io.write(string.format(
    '\\nWRK_JSON {{"requests": %d, "duration_us": %d, "errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, errors_total,
    socket.connect + socket.read + socket.write + socket.timeout,
    latency:percentile(50.0), latency:percentile(99.0)))
end
"""


def run(port: int, load: Load, *, clients: int, duration: float, threads: int, run_id: str) -> dict[str, Any]:
    """One wrk run of `duration` seconds with `clients` connections over `threads` threads: its totals."""
    threads = max(1, min(threads, clients))
    script = lua_script(load, run_id, threads)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        result = subprocess.run(  # noqa: S603  (wrk from PATH, arguments built here)
            [
                WRK,
                f"-t{threads}",
                f"-c{clients}",
                f"-d{max(1, round(duration))}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
    finally:
        Path(handle.name).unlink(missing_ok=True)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {(result.stderr or result.stdout)[-600:]}")
    totals = json.loads(line.removeprefix("WRK_JSON "))
    seconds = totals["duration_us"] / 1e6
    requests = totals["requests"]
    errors = totals["errors"] + totals["socket_errors"]
    return {
        "requests": requests,
        "duration_s": round(seconds, 3),
        "throughput_rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(totals["p50_us"] / 1000, 2),
        "p99_ms": round(totals["p99_us"] / 1000, 2),
        "errors": errors,
        "error_rate": round(errors / requests, 4) if requests else 1.0,
        "statuses": {"unexpected": totals["errors"], "socket errors": totals["socket_errors"]},
        "generator": "wrk",
    }
