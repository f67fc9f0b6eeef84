"""``python -m auditor.emulator``: serve a fleet until SIGTERM/SIGINT (benchmarks, the demo)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from auditor.emulator.app import Emulator
from auditor.emulator.config import EmulatorConfig, Fault, FaultKind, RateLimit
from auditor.emulator.server import serve_until
from auditor.fleet import Fleet, generate_fleet, load_fleet

READY_PREFIX = "EMULATOR_URL="


def _versions_range(text: str) -> tuple[int, int]:
    try:
        low_text, _, high_text = text.partition(",")
        low, high = int(low_text), int(high_text or low_text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LO,HI, got {text!r}") from exc
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError(f"expected 1 <= LO <= HI, got {text!r}")
    return low, high


def _fault(text: str) -> tuple[str, Fault]:
    key, _, spec = text.rpartition("=")
    kind_text, _, times_text = spec.partition(":")
    try:
        fault = Fault(FaultKind(kind_text), times=int(times_text) if times_text else None)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in FaultKind)
        raise argparse.ArgumentTypeError(
            f"expected KEY=KIND[:TIMES] with KIND one of {kinds}, got {text!r}"
        ) from exc
    if not key:
        raise argparse.ArgumentTypeError(f"expected KEY=KIND[:TIMES], got {text!r}")
    return key, fault


def _key_account(text: str) -> tuple[str, str]:
    key, _, account = text.partition("=")
    if not key or not (account.isdigit() and len(account) == 12):
        raise argparse.ArgumentTypeError(f"expected ACCESS_KEY_ID=ACCOUNT_ID, got {text!r}")
    return key, account


def _account_rate(text: str) -> tuple[str, RateLimit]:
    account, _, limit_text = text.partition("=")
    rate_text, _, burst_text = limit_text.partition(":")
    try:
        rate = float(rate_text)
        limit = RateLimit(rate=rate, burst=int(burst_text) if burst_text else max(1, int(rate)))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected ACCOUNT_ID=RATE[:BURST], got {text!r}") from exc
    return account, limit


def _expiry(text: str) -> tuple[str, int]:
    key, _, calls = text.rpartition("=")
    if not key or not calls.isdigit():
        raise argparse.ArgumentTypeError(f"expected ACCESS_KEY_ID=CALLS, got {text!r}")
    return key, int(calls)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditor emulator",
        description="Serve a fleet over the Clean Rooms / Clean Rooms ML read APIs. Prints "
        f"one line {READY_PREFIX}http://HOST:PORT when ready; stops on SIGTERM/SIGINT.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    fleet = parser.add_argument_group("fleet (a file, or generated from a seed)")
    fleet.add_argument("--fleet", type=Path, help="a fleet JSON written by Fleet.to_json")
    fleet.add_argument("--seed", type=int, default=7)
    fleet.add_argument("--memberships", type=int, default=3)
    fleet.add_argument("--models", type=int, default=30)
    fleet.add_argument(
        "--versions-per-model", type=_versions_range, default=(1, 3), metavar="LO,HI"
    )
    fleet.add_argument("--noncompliant-share", type=float, default=0.3)
    fleet.add_argument(
        "--context",
        action="store_true",
        help="also serve what the versions refer to: associations, algorithms, ML input "
        "channels, incremental chains, inference jobs",
    )
    fleet.add_argument(
        "--fleet-account",
        action="append",
        default=[],
        metavar="ACCOUNT_ID",
        help="spread generated memberships over these accounts (repeatable)",
    )
    fleet.add_argument(
        "--collaboration-models",
        type=int,
        default=0,
        metavar="N",
        help="models other members trained in the memberships' collaborations (default 0)",
    )
    knobs = parser.add_argument_group("knobs (all off by default)")
    knobs.add_argument("--rate", type=float, help="requests/s per operation (token bucket)")
    knobs.add_argument("--burst", type=int, help="bucket capacity (default: max(1, rate))")
    knobs.add_argument("--latency-ms", type=float, default=0.0)
    knobs.add_argument("--jitter-ms", type=float, default=0.0)
    knobs.add_argument("--error-rate", type=float, default=0.0, help="share of 500 responses")
    knobs.add_argument("--error-seed", type=int, default=0)
    knobs.add_argument("--page-cap", type=int, help="serve at most N items per page")
    knobs.add_argument("--deny-membership", action="append", default=[], metavar="ID")
    knobs.add_argument(
        "--deny-collaboration",
        action="append",
        default=[],
        metavar="ID",
        help="answer this collaboration's collaboration APIs with AccessDeniedException",
    )
    knobs.add_argument("--vanish-model", action="append", default=[], metavar="ARN")
    knobs.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="KEY=KIND[:TIMES]",
        help="inject a fault; KEY is an operation, model ARN, ARN#version or membership id",
    )
    knobs.add_argument(
        "--expire-credentials",
        type=_expiry,
        action="append",
        default=[],
        metavar="ACCESS_KEY_ID=CALLS",
        help="after CALLS requests, answer this key's requests with 403 ExpiredTokenException",
    )
    knobs.add_argument(
        "--any-region",
        action="store_true",
        help="serve every membership whatever region the caller signs for",
    )
    accounts = parser.add_argument_group(
        "accounts (a caller sees only its own account's memberships when any is set)"
    )
    accounts.add_argument(
        "--account",
        type=_key_account,
        action="append",
        default=[],
        metavar="ACCESS_KEY_ID=ACCOUNT_ID",
        help="the account of a caller's access key id (repeatable)",
    )
    accounts.add_argument(
        "--identity-url",
        metavar="URL",
        help="an STS endpoint (moto's server) asked GetCallerIdentity for keys not in --account",
    )
    accounts.add_argument("--deny-account", action="append", default=[], metavar="ACCOUNT_ID")
    accounts.add_argument(
        "--account-rate",
        type=_account_rate,
        action="append",
        default=[],
        metavar="ACCOUNT_ID=RATE[:BURST]",
        help="that account's own requests/s per operation and region, and bucket capacity "
        "(default: max(1, RATE)) (repeatable)",
    )
    accounts.add_argument(
        "--disabled-region",
        action="append",
        default=[],
        metavar="REGION",
        help="answer every call signed for REGION as a region that is not enabled",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The ``EmulatorConfig`` the parsed flags describe; raises ``ValueError`` if invalid."""
    rate_limit = None
    if args.rate is not None:
        burst = args.burst if args.burst is not None else max(1, int(args.rate))
        rate_limit = RateLimit(rate=args.rate, burst=burst)
    return EmulatorConfig(
        rate_limit=rate_limit,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        error_rate=args.error_rate,
        seed=args.error_seed,
        page_cap=args.page_cap,
        deny_memberships=frozenset(args.deny_membership),
        deny_collaborations=frozenset(args.deny_collaboration),
        vanish_models=frozenset(args.vanish_model),
        faults=dict(args.fault),
        region_scoped=not args.any_region,
        accounts=dict(args.account),
        identity_url=args.identity_url,
        deny_accounts=frozenset(args.deny_account),
        account_rate_limits=dict(args.account_rate),
        disabled_regions=frozenset(args.disabled_region),
        expire_credentials=dict(args.expire_credentials),
    )


def fleet_from_args(args: argparse.Namespace) -> Fleet:
    """The fleet file, or a generated fleet; raises ``ValueError`` for an unreadable file."""
    if args.fleet is not None:
        return load_fleet(args.fleet)
    return generate_fleet(
        seed=args.seed,
        memberships=args.memberships,
        models=args.models,
        versions_per_model=args.versions_per_model,
        noncompliant_share=args.noncompliant_share,
        accounts=args.fleet_account or None,
        collaboration_models=args.collaboration_models,
        context=args.context,
    )


async def _serve(emulator: Emulator, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def ready(url: str) -> None:
        print(f"{READY_PREFIX}{url}", flush=True)

    await serve_until(emulator, host, port, ready, stop.wait)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; 0 on a clean stop, 2 on bad arguments or fleet file."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        fleet = fleet_from_args(args)
    except ValueError as exc:
        print(f"auditor emulator: error: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_serve(Emulator(fleet, config), args.host, args.port))
    return 0
