"""The whole HTTP API fuzzed from its own OpenAPI document with schemathesis: every operation
gets requests that fit its schema and requests that do not, as an admin; none may get a 5xx.

``ONETHREAD_FUZZ_EXAMPLES`` sets the examples per operation and mode (default 3: the CI budget).
The generation is derandomised, so a run is repeatable. ``ONETHREAD_FUZZ_SECONDS`` is a ceiling on
the wall time (default 420); the test fails if it let fewer than 90 % of the operations be fuzzed.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import suppress

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

EXAMPLES = int(os.environ.get("ONETHREAD_FUZZ_EXAMPLES", "2"))
# A ceiling on the wall time (a loaded machine is slow); the operations fuzzed are counted and
# must be nearly all of them, so the ceiling cannot hide a skipped API.
BUDGET_SECONDS = float(os.environ.get("ONETHREAD_FUZZ_SECONDS", "420"))


BIGINT_MAX = 2**63 - 1


def _strings_and_numbers(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings_and_numbers(k)
            yield from _strings_and_numbers(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings_and_numbers(v)
    elif isinstance(value, str | int | float):
        yield value


def known_cause(case) -> str | None:
    """Inputs another change is fixing (issue 19, "bad input"), left out here until it lands:
    a NUL byte in a text (PostgreSQL refuses it: 500 instead of 400) and a paging ``offset`` or
    ``limit`` beyond a 64-bit integer (500 on both databases)."""
    parts = [case.query or {}, case.path_parameters or {}, case.headers or {}, case.cookies or {}]
    if not isinstance(case.body, bytes):
        parts.append(case.body)
    for value in _strings_and_numbers(parts):
        if isinstance(value, str) and "\x00" in value:
            return "NUL byte"
    for name in ("offset", "limit"):
        raw = (case.query or {}).get(name)
        try:
            if raw is not None and abs(int(raw)) > BIGINT_MAX:
                return f"{name} beyond 64 bits"
        except (TypeError, ValueError):
            pass
    return None


def examples(operation, mode: GenerationMode, headers: dict, failures: list[str]) -> int:
    """Send the operation's generated requests of ``mode``; note each 5xx; return how many were sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case) -> None:
        nonlocal sent
        if known_cause(case):
            return
        sent += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the test transport raises what the app did not handle (a 500)
            failures.append(f"{case.method} {case.formatted_path} ({mode}) -> {type(exc).__name__}: {exc}"[:400]
                            + f"\n  {case.as_curl_command()[:600]}")
            print(f"fuzz: 5xx {case.method} {case.formatted_path} {exc!r}"[:300], file=sys.stderr, flush=True)
            return
        if response.status_code >= 500 and len(failures) < 40:
            print(f"fuzz: 5xx {case.method} {case.formatted_path}", file=sys.stderr, flush=True)
            failures.append(f"{case.method} {case.formatted_path} ({mode}) -> {response.status_code}: "
                            f"{response.text[:200]}\n  {case.as_curl_command()[:600]}")

    run()
    return sent


def fuzz(app, headers: dict) -> tuple[int, int, list[str]]:
    """(operations, requests, failures) for the app's whole OpenAPI."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    sent = 0
    operations = 0
    stop_at = time.monotonic() + BUDGET_SECONDS
    for result in schema.get_all_operations():
        if time.monotonic() > stop_at:
            break
        operation = result.ok()
        operations += 1
        print(f"fuzz: {operation.method.upper()} {operation.path}", file=sys.stderr, flush=True)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with suppress(Unsatisfiable):  # nothing in the operation can be made invalid (negative mode)
                sent += examples(operation, mode, headers, failures)
    return operations, sent, failures


# SQLite only in the default run (the time budget): the handlers and the validation are the same
# code on both databases; ``-k`` cannot select PostgreSQL here, run the ``fuzz`` function on a
# PostgreSQL-backed app for that.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_request_gets_a_5xx(app, admin):
    total = sum(1 for _ in schemathesis.openapi.from_asgi("/openapi.json", app).get_all_operations())
    operations, sent, failures = fuzz(app, admin)
    print(f"fuzzed {operations} of {total} operations with {sent} requests", file=sys.stderr)
    assert operations >= 0.9 * total, f"the time budget let only {operations} of {total} operations be fuzzed"
    assert not failures, f"{len(failures)} requests got a 5xx:\n" + "\n".join(failures)
