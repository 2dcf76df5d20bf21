"""Command-line options shared by `python -m ...emulator` and `manage.py sr_emulator`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from user2smart.smartrecruiters.emulator.api import API_PREFIX
from user2smart.smartrecruiters.emulator.app import Emulator
from user2smart.smartrecruiters.emulator.faults import FaultConfig, parse_faults
from user2smart.smartrecruiters.emulator.server import make_server

DEFAULT_PORT = 8900
_RATE_FLAGS = ("error_rate", "throttle_rate", "timeout_rate", "create_then_timeout_rate")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument(
        "--state",
        type=Path,
        help="JSON file: loaded at start when it exists, rewritten (atomically) after changes",
    )
    parser.add_argument(
        "--seed", type=Path, help="reset document to start from when there is no state file"
    )
    parser.add_argument("--faults", type=Path, help="JSON file shaped like POST /_emulator/faults")
    parser.add_argument("--latency-ms", help="latency of every User API call: N or MIN,MAX")
    parser.add_argument("--error-rate", type=float, help="share of 500/502/503 answers (0-1)")
    parser.add_argument("--throttle-rate", type=float, help="share of injected 429 answers (0-1)")
    parser.add_argument(
        "--no-throttle-retry-after",
        action="store_true",
        help="injected 429 answers carry no Retry-After header",
    )
    parser.add_argument("--timeout-rate", type=float, help="share of calls never answered (0-1)")
    parser.add_argument(
        "--create-then-timeout-rate",
        type=float,
        help="share of creates that succeed but are never answered (0-1)",
    )
    parser.add_argument(
        "--timeout-hold-ms", type=int, help="how long an unanswered call is held (3000)"
    )
    parser.add_argument(
        "--allow-remote-control",
        action="store_true",
        help="let non-loopback clients use /_emulator/ (e.g. between containers)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")


def fault_config(options: Mapping) -> FaultConfig:
    """The faults file, then the flags on top of it (raises ValueError for a bad value)."""
    document: dict = {}
    if options.get("faults"):
        with Path(options["faults"]).open(encoding="utf-8") as handle:
            document = json.load(handle)
        if not isinstance(document, dict):
            raise ValueError("The faults file must hold a JSON object.")
    for name in _RATE_FLAGS:
        if options.get(name) is not None:
            document[name] = options[name]
    if options.get("latency_ms"):
        values = [float(part) for part in str(options["latency_ms"]).split(",")]
        document["latency_ms"] = values[0] if len(values) == 1 else values
    if options.get("no_throttle_retry_after"):
        document["throttle_retry_after"] = False
    if options.get("timeout_hold_ms") is not None:
        document["timeout_hold_ms"] = options["timeout_hold_ms"]
    return parse_faults(document)


def serve(options: Mapping, announce: Callable[[str], None]) -> None:
    """Run until SIGTERM or SIGINT; then write the state file one last time."""
    app = Emulator(
        state_path=options.get("state"),
        seed_path=options.get("seed"),
        faults=fault_config(options),
        allow_remote_control=bool(options.get("allow_remote_control")),
    )
    try:
        server = make_server(
            app,
            options.get("host") or "127.0.0.1",
            int(options.get("port") or 0),
            bool(options.get("verbose")),
        )
    except OSError:
        app.close()
        raise

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    announce(f"SmartRecruiters emulator listening on {server.url} (User API: {API_PREFIX})")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        app.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m user2smart.smartrecruiters.emulator",
        description="An emulator of the SmartRecruiters User API (see docs/emulator.md).",
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    logging.basicConfig(
        level=logging.INFO if options["verbose"] else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        serve(options, announce=_announce)
    except (ValueError, OSError) as exc:
        parser.exit(2, f"emulator: {exc}\n")
    return 0
