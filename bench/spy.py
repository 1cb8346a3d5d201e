"""Where a server's time goes, sampled from outside with py-spy while the bench loads it.

``bench.suite --profile DIR`` records the real ``onethread serve`` process during each HTTP
measurement (``DIR/<measurement>.txt``, py-spy's collapsed stacks, which speedscope and
flamegraph tools read) and adds a breakdown by layer to the results. Only samples of a thread
holding the GIL are taken (``py-spy --gil``): a server process runs one thread of Python at a
time, so these are what its throughput is made of. The table gives their share in the HTTP
server, the web framework, validation, SQLAlchemy, the database driver, onethread's own code,
JSON, templates, and the event loop and its threads. Waiting for the database holds no GIL and
is not in it: the latency columns show it.

py-spy attaches with ptrace: it needs root or ``kernel.yama.ptrace_scope=0``.

    .venv/bin/python -m bench.spy bench/results/profile/ingest.txt    # the breakdown of one file
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# First module of a frame's file -> layer.
_LAYERS = {
    "uvicorn": "HTTP server", "httptools": "HTTP server", "h11": "HTTP server",
    "starlette": "web framework", "fastapi": "web framework",
    "pydantic": "validation", "pydantic_core": "validation",
    "sqlalchemy": "SQLAlchemy",
    "psycopg": "database driver", "psycopg_binary": "database driver", "sqlite3": "database driver",
    "onethread": "onethread",
    "asyncio": "event loop and threads", "anyio": "event loop and threads", "threading.py": "event loop and threads",
    "concurrent": "event loop and threads", "uvloop": "event loop and threads", "queue.py": "event loop and threads",
    "contextlib.py": "event loop and threads",
    "json": "JSON", "orjson": "JSON",
    "jinja2": "templates", "markupsafe": "templates",
    "phonenumbers": "onethread",  # number normalisation is onethread's choice of library
}
LAYERS = ["HTTP server", "web framework", "validation", "SQLAlchemy",
          "database driver", "onethread", "JSON", "templates", "event loop and threads", "other"]


def _module(frame: str) -> str:
    """``'Session.execute (sqlalchemy/orm/session.py:2488)'`` -> ``'sqlalchemy'``."""
    start, end = frame.rfind("("), frame.rfind(")")
    path = frame[start + 1:end].rsplit(":", 1)[0] if start >= 0 else ""
    if "/" in path:
        return path.split("/", 1)[0]
    return path if path.endswith(".py") else ""  # a one-file module (threading.py), not the entry script


def _idle(frames: list[str]) -> bool:
    leaf = frames[-1]
    if "Condition.wait" in leaf or "Queue.get" in leaf or "_worker (concurrent" in leaf:
        return True
    # the event loop blocked in select/epoll waiting for a socket: shows as the run loop's own frame
    return leaf.startswith(("Runner.run (asyncio", "run_forever (asyncio", "_run_once (asyncio")) or (
        "select (selectors" in leaf)


def layer_of(frames: list[str]) -> str | None:
    """The layer a sample counts for, or None for an idle thread."""
    if _idle(frames):
        return None
    # the innermost frame that belongs to a known layer
    for frame in reversed(frames):
        layer = _LAYERS.get(_module(frame))
        if layer:
            return layer
    return "other"


def breakdown(path: Path) -> dict:
    """{'samples': samples, 'layers': {layer: share of the samples, in %}} of a collapsed file."""
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        layer = layer_of(stack.split(";"))
        if layer is not None:
            counts[layer] += int(n)
    busy = sum(counts.values())
    return {"samples": busy,
            "layers": {k: round(100 * counts[k] / busy, 1) for k in LAYERS if counts[k]} if busy else {}}


def available() -> bool:
    return shutil.which("py-spy") is not None or (Path(sys.executable).parent / "py-spy").exists()


def _exe() -> str:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else (shutil.which("py-spy") or "py-spy")


@contextlib.contextmanager
def record(pid: int, out: Path, rate: int = 500) -> Iterator[Path]:
    """Sample process ``pid`` (and its children: the server's worker processes) into ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([_exe(), "record", "--pid", str(pid), "--output", str(out), "--format", "raw",
                             "--rate", str(rate), "--subprocesses", "--gil", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # attached before the load starts
    if proc.poll() is not None:
        raise RuntimeError(f"py-spy could not attach to {pid}: {proc.stderr.read().decode()[-500:]}")
    try:
        yield out
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def markdown(profiles: dict[str, dict]) -> str:
    """A table: one row per measurement, one column per layer (share of the server's busy samples)."""
    used = [k for k in LAYERS if any(k in p["layers"] for p in profiles.values())]
    lines = ["| measurement | samples holding the GIL | " + " | ".join(used) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in used) + " |"]
    for name, p in profiles.items():
        lines.append(f"| {name} | {p['samples']:,} | "
                     + " | ".join(f"{p['layers'].get(k, 0):.1f}%" for k in used) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path, help="py-spy collapsed (raw) files")
    args = ap.parse_args(argv)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    print(markdown({f.stem: breakdown(f) for f in args.files}), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
