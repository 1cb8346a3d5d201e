"""``onethread serve`` and ``onethread worker``."""

from __future__ import annotations

import logging
import signal
import socket
import threading

import typer

from onethread.cli.common import container


def serve(
    host: str = typer.Option(None, help="address to listen on (default ONETHREAD_HOST, 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default ONETHREAD_PORT, 8000)"),
    with_worker: bool = typer.Option(None, "--with-worker/--no-worker",
                                     help="run the worker loop in this process (default: on with SQLite)"),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="server processes (each a full onethread; use the cores you have)"),
    startup_timeout: int = typer.Option(
        60, "--startup-timeout", min=1, max=3600,
        help="with --workers: seconds a server process may take to start (and to answer the supervisor's "
        "ping) before it is replaced"),
) -> None:
    """Run the API and the pages (uvicorn)."""
    import uvicorn

    from onethread.app import create_app

    c = container()
    host = host or c.settings.host
    port = port or c.settings.port
    app = create_app(container=c, freeze_heap=True)
    inline = c.settings.is_sqlite if with_worker is None else with_worker
    stop = threading.Event()
    if inline:
        from onethread.jobs.runner import run_forever

        threading.Thread(target=run_forever, args=(c, stop), name="onethread-worker", daemon=True).start()
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    docs = (f"API description: http://{shown}:{port}/openapi.json" if c.settings.env == "production"
            else f"API docs: http://{shown}:{port}/docs")  # /docs is not served in production (docs/security.md)
    typer.echo(f"onethread is running: open http://{shown}:{port}/  ({docs})")
    try:
        if workers == 1:
            uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
        else:  # each process builds its own app from the same ONETHREAD_* settings
            # Each process is started afresh (spawned, not forked) and imports onethread before it
            # answers the supervisor's ping: uvicorn's default of 5 s killed every one of them on a
            # loaded machine, over and over, and the server never became ready.
            uvicorn.run("onethread.app:app_from_environment", factory=True, host=host, port=port,
                        workers=workers, log_level="info", access_log=False,
                        timeout_worker_healthcheck=startup_timeout)
    finally:
        stop.set()


def worker(
    once: bool = typer.Option(False, "--once", help="do one pass (outbox, sweeps) and exit"),
) -> None:
    """Run the background worker: delivers the outbox and runs the periodic sweeps."""
    from onethread.jobs.runner import run_forever, run_once

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the start-up schema check is not news
    c = container()
    if once:
        report = run_once(c, worker_id=f"{socket.gethostname()}-once")
        typer.echo(report.summary())
        if report.red_channels:  # a refused login or a stopped server is not "ok" (exit 1)
            typer.echo(f"failing channels: {', '.join(report.red_channels)}", err=True)
            raise typer.Exit(1)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    typer.echo("worker started (Ctrl-C to stop)")
    run_forever(c, stop)
    typer.echo("worker stopped")
