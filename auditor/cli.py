"""Command line: the only place that turns errors into messages and exit codes.

Exit codes (the contract): 0 complete and the gate passed; 1 the gate failed; 2 usage or
configuration error, nothing scanned; 3 incomplete (some of the estate could not be read, or
the run was interrupted), which wins over 1 unless ``--allow-incomplete``; 4 the scan was
done but its reports could not (all) be written (the verdict is still printed); 70 a bug (an
unexpected exception, printed with its traceback).

The gate's verdict goes to stderr; stdout carries what a script reads (report paths, JSON).
A reader that goes away (a closed pipe on either) never changes the exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import anyio

from auditor import __version__, progress
from auditor.accounts import DEFAULT_ROLE_DURATION, load_accounts_file
from auditor.arns import parse_trained_model_arn
from auditor.atomic import (
    MANIFEST_NAME,
    FileSetWriteError,
    SetWritten,
    SignalsNoted,
    write_file_set,
)
from auditor.audit import ReportBuilder, ReportOptions
from auditor.baseline import diff_json, diff_reports, render_diff_text
from auditor.crawler import DEFAULT_CONCURRENCY, CrawlConfig, CrawlScope, redact
from auditor.crawler.collaboration import CollaborationClaims
from auditor.demo import DemoSettings, collaboration_line, demo_environment, running_emulator
from auditor.errors import AuditorError, ReportInputError, UsageError
from auditor.history import record_run, trend
from auditor.inputfiles import MAX_REPORT_BYTES, open_input, seekable_or_buffered
from auditor.inputs import read_input
from auditor.lineage import ContextTally
from auditor.merge import merge_reports
from auditor.models import ErrorScope, Gate, Report, ResourceType, ScanError, Severity
from auditor.policy import (
    MissingExamples,
    PolicySet,
    context_pack_path,
    default_pack_path,
    list_policies,
    load_packs,
    pack_schema,
    parse_param_override,
    run_examples,
)
from auditor.reports import FILENAMES, Format, iter_render, parse_formats
from auditor.reports.load import read_report
from auditor.scan import DEFAULT_MAX_PARALLEL, ScanSettings, run_scan
from auditor.shard import Shard, parse_shard
from auditor.waivers import load_waivers

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_REPORTS_NOT_WRITTEN = 4
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug

log = logging.getLogger("auditor")

DEFAULT_FORMATS = "json,html"
_DEMO_DEFAULTS = DemoSettings()


# --- argument parsing ------------------------------------------------------------------


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _severity(text: str) -> Severity:
    try:
        return Severity(text.lower())
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise argparse.ArgumentTypeError(f"unknown severity {text!r} (one of: {choices})") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies",
        action="append",
        type=Path,
        metavar="PATH",
        help="a pack file or a folder of packs (repeatable; default: the shipped pack)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a pack param: a JSON value, or a comma list (repeatable)",
    )


def _add_report_options(parser: argparse.ArgumentParser, *, with_policies: bool = True) -> None:
    if with_policies:
        _add_policy_options(parser)
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where reports go (default: reports/)",
    )
    parser.add_argument(
        "--format",
        default=DEFAULT_FORMATS,
        metavar="LIST",
        help=f"comma list of {', '.join(f.value for f in Format)}, or all (default: {DEFAULT_FORMATS})",
    )
    parser.add_argument(
        "--fail-on",
        type=_severity,
        default=Severity.HIGH,
        metavar="SEVERITY",
        help="the gate: exit 1 on an unwaived failure at or above this severity (default: high)",
    )
    parser.add_argument("--waivers", type=Path, metavar="FILE", help="a waivers file (YAML)")
    parser.add_argument(
        "--baseline", type=Path, metavar="REPORT", help="an earlier report.json to compare with"
    )
    parser.add_argument(
        "--fail-on-new-only",
        action="store_true",
        help="with --baseline: gate only on failures that are not in the baseline, and on "
        "baseline failures this run did not re-check",
    )
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="exit 0 or 1 from the gate even when part of the estate could not be read",
    )
    parser.add_argument(
        "--history-dir",
        type=Path,
        metavar="DIR",
        help="keep this run's report.json in DIR by timestamp; report.html then draws the "
        "trend of failures over the runs kept there",
    )


def _add_scan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="a region to scan (repeatable; `all` = every region with Clean Rooms ML; "
        "default: the SDK's configured region)",
    )
    accounts = parser.add_mutually_exclusive_group()
    accounts.add_argument(
        "--accounts",
        type=Path,
        metavar="FILE",
        help="scan these accounts (YAML: id, role_arn or role_name, external_id, regions), "
        "assuming each one's role",
    )
    accounts.add_argument(
        "--org",
        metavar="ROLE",
        help="scan every ACTIVE account of the AWS Organization, assuming ROLE (a name) in "
        "each; run as the management account or a delegated administrator",
    )
    parser.add_argument(
        "--external-id", metavar="ID", help="with --org: the external id the role requires"
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="scan only shard I (1-based) of N of the account-regions; combine the N "
        "report.json files with `auditor merge`",
    )
    parser.add_argument(
        "--max-parallel",
        type=_positive_int,
        default=DEFAULT_MAX_PARALLEL,
        metavar="N",
        help=f"account-regions crawled at once (default: {DEFAULT_MAX_PARALLEL}); each has "
        "its own rate controllers and --concurrency",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=0,
        metavar="N",
        help="processes crawling at once (default: the machine's cores, at most one per "
        "account-region, so one account-region is scanned in this process; 1: one process); "
        "more than the account-regions splits each by model, the shares pacing together at "
        "its limits",
    )
    parser.add_argument(
        "--account-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="bound each account-region; what it did not reach is reported as errors",
    )
    parser.add_argument(
        "--role-duration",
        type=_positive_int,
        default=DEFAULT_ROLE_DURATION,
        metavar="SECONDS",
        help=f"assumed-role session length (default: {DEFAULT_ROLE_DURATION}); the SDK "
        "renews the credentials before they expire",
    )
    parser.add_argument(
        "--profile", metavar="NAME", help="an AWS shared-config profile (else the SDK's default)"
    )
    parser.add_argument(
        "--membership", action="append", default=[], metavar="ID", help="only this membership"
    )
    parser.add_argument(
        "--model", action="append", default=[], metavar="ARN", help="only this trained model"
    )
    parser.add_argument(
        "--latest-only", action="store_true", help="audit only each model's latest version"
    )
    parser.add_argument(
        "--collaboration-models",
        action="store_true",
        help="also audit the models other members trained in each membership's collaboration "
        "(ListCollaborationTrainedModels / GetCollaborationTrainedModel), against the "
        "collaboration-trained-model policies",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"API calls in flight at most (default: {DEFAULT_CONCURRENCY}); the rate "
        "controller finds each operation's limit by itself",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="bound the whole scan; what it did not reach is reported as errors",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditor",
        description="Audit AWS Clean Rooms ML trained models against declarative policies.",
    )
    parser.add_argument("--version", action="version", version=f"auditor {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = commands.add_parser("scan", help="scan live AWS (or anything that speaks its API)")
    _add_scan_options(scan)
    _add_report_options(scan)

    demo = commands.add_parser(
        "demo", help="scan a seeded fleet on the bundled emulator (throttling on) end to end"
    )
    demo.add_argument("--models", type=_positive_int, default=_DEMO_DEFAULTS.models)
    demo.add_argument("--memberships", type=_positive_int, default=_DEMO_DEFAULTS.memberships)
    demo.add_argument("--seed", type=int, default=_DEMO_DEFAULTS.seed)
    demo.add_argument(
        "--rate",
        type=_positive_float,
        default=_DEMO_DEFAULTS.rate,
        help="the emulator's requests/s per operation (the scanner is not told)",
    )
    demo.add_argument("--latency-ms", type=float, default=_DEMO_DEFAULTS.latency_ms)
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    _add_report_options(demo)
    demo.set_defaults(format="all")

    evaluate = commands.add_parser(
        "evaluate", help="evaluate saved GetTrainedModel responses offline"
    )
    evaluate.add_argument(
        "--input",
        action="append",
        required=True,
        type=Path,
        metavar="FILE",
        help="a JSON array, JSON Lines, or `aws cleanroomsml get-trained-model` output (repeatable)",
    )
    _add_report_options(evaluate)

    policies = commands.add_parser("policies", help="list, validate and test policy packs")
    policy_commands = policies.add_subparsers(dest="policies_command", required=True)
    listing = policy_commands.add_parser("list", help="the policies a set of packs defines")
    _add_policy_options(listing)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    validate = policy_commands.add_parser("validate", help="validate packs; exit 2 if invalid")
    test = policy_commands.add_parser("test", help="run each policy's examples")
    for pack_command in (validate, test):
        pack_command.add_argument(
            "--policies", action="append", type=Path, metavar="PATH", help=argparse.SUPPRESS
        )
    # packs as positional paths or as --policies, the same in all three subcommands
    for pack_command in (listing, validate, test):
        pack_command.add_argument(
            "paths",
            nargs="*",
            type=Path,
            metavar="PATH",
            help="a pack file or a folder of packs (default: the shipped pack)",
        )
    policy_commands.add_parser("schema", help="print the pack JSON Schema")

    report = commands.add_parser("report", help="re-render formats from a saved report.json")
    report.add_argument("--input", required=True, type=Path, metavar="REPORT")
    report.add_argument("--output-dir", type=Path, default=Path("reports"), metavar="DIR")
    report.add_argument("--format", default="all", metavar="LIST")

    merge = commands.add_parser(
        "merge",
        help="combine shard report.json files into one report (every format, gate on the whole)",
    )
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORT")
    _add_report_options(merge, with_policies=False)  # the shards' own policies are merged
    merge.set_defaults(policies=None, param=[])

    diff = commands.add_parser(
        "diff", help="new, resolved, gone, not re-checked and unchanged failures between runs"
    )
    diff.add_argument("old", type=Path, metavar="OLD")
    diff.add_argument("new", type=Path, metavar="NEW")
    diff.add_argument("--json", action="store_true", help="machine-readable output")

    publish = commands.add_parser(
        "publish", help="send a saved report's findings to a findings service"
    )
    publish_targets = publish.add_subparsers(dest="publish_target", required=True)
    security_hub = publish_targets.add_parser(
        "security-hub",
        help="import findings into AWS Security Hub (ASFF), updating and closing earlier ones",
    )
    security_hub.add_argument("report", type=Path, metavar="REPORT", help="a report.json")
    security_hub.add_argument(
        "--region", metavar="REGION", help="the Security Hub region (default: the SDK's)"
    )
    security_hub.add_argument(
        "--profile", metavar="NAME", help="an AWS shared-config profile (else the SDK's default)"
    )

    # Parsed by the emulator's own parser: `auditor emulator --help` shows its flags.
    commands.add_parser(
        "emulator", help="serve the bundled Clean Rooms / Clean Rooms ML API emulator"
    )

    return parser


# --- helpers ---------------------------------------------------------------------------


def _say(text: str = "", end: str = "\n") -> None:
    """Print to stdout (what a script reads)."""
    sys.stdout.write(text + end)
    sys.stdout.flush()


def _tell(text: str) -> None:
    """Print to stderr (the verdict, errors, what happened)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class _ClosedPipeTolerant:
    """A text stream whose reader may go away (`| head`, `2>&1 | true`): on the first
    ``BrokenPipeError`` the stream's descriptor is pointed at /dev/null (the recipe in
    Python's signal docs), so neither later writes nor the flush at exit fail."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _closed(self) -> None:
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):
            return  # not a real descriptor (a test's capture): nothing to redirect
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._closed()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._closed()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _tolerant_stdio() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout = _ClosedPipeTolerant(sys.stdout)
    sys.stderr = _ClosedPipeTolerant(sys.stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = saved


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def handle_signals_as_interrupts() -> None:
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` naming the signal (exit 3); the scan
    and the report writer take them over while they run, and hand them back."""
    if threading.current_thread() is threading.main_thread():
        for signum in _SIGNALS:
            if signum not in _IGNORED:
                signal.signal(signum, _raise_interrupt)


# Signals ignored when the process started (`nohup`, a background job of a script) stay
# ignored outside the scan, as Python itself leaves an ignored SIGINT alone.
_IGNORED = {signum for signum in _SIGNALS if signal.getsignal(signum) is signal.SIG_IGN}


def _load_policy_set(args: argparse.Namespace) -> PolicySet:
    overrides: dict[str, Any] = {}
    for text in args.param:
        name, value = parse_param_override(text)
        overrides[name] = value
    paths = args.policies or [default_pack_path()]
    return load_packs(paths, overrides)


def _read_report_file(path: Path) -> Report:
    """A saved report.json (a file or a pipe) within ``MAX_REPORT_BYTES``; raises
    ``InputFileError``/``ReportInputError`` (exit 2)."""
    with open_input(path, "a report") as handle:
        readable = seekable_or_buffered(handle, path, "a report", MAX_REPORT_BYTES)
        try:
            return read_report(readable, str(path))
        except OSError as exc:
            raise ReportInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _check_writable_dir(folder: Path, flag: str) -> None:
    """Refuse, before any work, a destination that could never be written (creates nothing)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {folder}: cannot write there ({probe} is not a writable folder)")


def _report_options(args: argparse.Namespace) -> ReportOptions:
    """Everything the gate needs, loaded before any work so a bad file stops the run early."""
    if args.fail_on_new_only and args.baseline is None:
        raise UsageError("--fail-on-new-only needs --baseline")
    _check_writable_dir(args.output_dir, "--output-dir")
    if getattr(args, "history_dir", None) is not None:
        _check_writable_dir(args.history_dir, "--history-dir")
    waivers = load_waivers(args.waivers) if args.waivers else ()
    baseline = _read_report_file(args.baseline) if args.baseline else None
    return ReportOptions(
        gate=Gate(fail_on=args.fail_on, new_only=args.fail_on_new_only),
        waivers=waivers,
        baseline=baseline,
        baseline_path=str(args.baseline) if args.baseline else None,
        today=date.today(),
    )


def write_reports(
    report: Report,
    output_dir: Path,
    formats: Sequence[Format],
    *,
    history_dir: Path | None = None,
) -> SetWritten:
    """Write every format as one set (``write_file_set``: staged, then renamed in with
    report.json last and a manifest of sha256s), streamed in chunks (report.json can be
    ~1 GB); with ``history_dir``, report.html draws the trend and the run is kept there.
    Raises ``FileSetWriteError`` (an ``OSError``) naming the file that could not be written."""
    history = trend(history_dir, report) if history_dir is not None else ()
    notices: list[str] = []  # what a format had to leave out (report.sarif: GitHub's limits)
    files = [
        (
            FILENAMES[fmt],
            iter_render(report, fmt, history=history, root=Path.cwd(), notices=notices),
        )
        for fmt in dict.fromkeys(formats)
    ]
    written = write_file_set(output_dir, files, last=FILENAMES[Format.JSON])
    for notice in notices:  # filled in while the set was written
        print(f"warning: {notice}", file=sys.stderr)
    if history_dir is not None and written.published:
        json_path = output_dir / FILENAMES[Format.JSON] if Format.JSON in formats else None
        with SignalsNoted() as noted:  # the run's copy is written whole, like the set
            try:
                kept = record_run(history_dir, report, json_path)
            except OSError as exc:
                target = exc.filename or history_dir
                raise FileSetWriteError(exc.errno, exc.strerror, str(target)) from exc
        log.debug("history: kept %s", kept)
        if written.signal is None and noted.first is not None:
            written = dataclasses.replace(written, signal=noted.first)
    return written


def verdict_line(report: Report) -> str:
    summary = report.summary()
    gate = report.gate
    gating_by_severity = Counter(result.severity for result in report.gating_failures())
    counted = ", ".join(
        f"{gating_by_severity[severity]} {severity.value}"
        for severity in Severity
        if gating_by_severity[severity]
    )
    scope = f"{summary.versions} model versions, {summary.errors} errors"
    if summary.waived:
        scope += f", {summary.waived} waived"
    new_only = " new" if gate.new_only else ""
    unchecked = sum(1 for _ in report.gating_prior_failures())
    if summary.gate_passed:
        verdict = f"PASS: no unwaived{new_only} failure at or above {gate.fail_on.value}"
    else:
        gating = sum(gating_by_severity.values())
        noun = "failure" if gating == 1 else "failures"
        verdict = f"FAIL: {gating} unwaived{new_only} {noun} at or above {gate.fail_on.value}"
        if counted:
            verdict += f" ({counted})"
        if unchecked:  # a baseline failure nobody re-checked is not new, nor fixed
            verdict += f" and {unchecked} from the baseline not re-checked"
    if not report.scan.complete:
        verdict = f"INCOMPLETE ({verdict})"
    return f"{verdict}; {scope}"


def exit_code(report: Report, *, allow_incomplete: bool) -> int:
    if not report.scan.complete and (report.scan.interrupted or not allow_incomplete):
        return EXIT_INCOMPLETE
    return EXIT_OK if report.summary().gate_passed else EXIT_GATE_FAILED


def describe_error(error: ScanError) -> str:
    """One stderr line for an ``errors`` entry, naming what it concerns (ARN, version,
    membership, account and region, input line)."""
    where: list[str] = [str(error.scope)]
    if error.resource_arn:
        where.append(error.resource_arn)
    if error.version_identifier:
        where.append(f"version {error.version_identifier}")
    if error.membership_id and not error.resource_arn:
        if error.scope != ErrorScope.MEMBERSHIP:
            where.append("membership")
        where.append(error.membership_id)
    place = "/".join(p for p in (error.account, error.region) if p)
    if place and not error.resource_arn:
        where.append(f"({place})")
    return f"{' '.join(where)}: {error.operation}: {error.code}: {error.message}"


def _write_and_tell(
    report: Report, output_dir: Path, formats: Sequence[Format], history_dir: Path | None
) -> tuple[SetWritten | None, int | None]:
    """Write the reports, then print the verdict (stderr) whatever happened; the exit code
    that the writing decides (4 not written, 3 interrupted), or None."""
    try:
        written: SetWritten | None = write_reports(
            report, output_dir, formats, history_dir=history_dir
        )
        failure = None
    except FileSetWriteError as exc:
        written, failure = None, exc
    _tell(verdict_line(report))
    for error in report.errors[:10]:
        _tell(f"  error: {describe_error(error)}")
    if len(report.errors) > 10:
        _tell(f"  ... and {len(report.errors) - 10} more errors in the report")
    if failure is not None:
        _tell(
            f"auditor: error: reports not written: cannot write {failure.filename}: "
            f"{failure.strerror or failure}; the verdict above is not in any report"
        )
        return None, EXIT_REPORTS_NOT_WRITTEN
    assert written is not None
    if written.signal is not None:
        state = (
            "reports written"
            if written.published
            else "writing rolled back; the earlier reports are unchanged"
        )
        _tell(f"auditor: interrupted by {written.signal} while writing the reports ({state})")
    if written.published:
        _say("reports: " + ", ".join(str(p) for p in written.paths))
        _say(f"manifest: {output_dir / MANIFEST_NAME}")
    return written, EXIT_INCOMPLETE if written.signal is not None else None


def _finish(report: Report, args: argparse.Namespace) -> int:
    formats = parse_formats(args.format)
    history_dir = getattr(args, "history_dir", None)
    _, code = _write_and_tell(report, args.output_dir, formats, history_dir)
    if code is not None:
        return code
    return exit_code(report, allow_incomplete=args.allow_incomplete)


# --- commands --------------------------------------------------------------------------


def _scan_report(
    args: argparse.Namespace,
    policy_set: PolicySet,
    options: ReportOptions,
    settings: ScanSettings,
    context: ContextTally | None = None,
) -> Report:
    watch = progress.choose(sys.stderr, quiet=args.quiet)
    try:
        return anyio.run(
            lambda: run_scan(settings, policy_set, options, watch=watch, context=context)
        )
    finally:
        handle_signals_as_interrupts()  # the event loop's signal handling ends with it


def cmd_scan(args: argparse.Namespace) -> int:
    parse_formats(args.format)
    policy_set = _load_policy_set(args)
    options = _report_options(args)
    for arn in args.model:
        if parse_trained_model_arn(arn) is None:
            raise UsageError(f"--model: not a Clean Rooms ML trained model ARN: {arn!r}")
    if args.external_id and not args.org:
        raise UsageError("--external-id goes with --org (an accounts file names its own)")
    if args.collaboration_models and args.model:
        raise UsageError(
            "--collaboration-models reads the collaborations of memberships: it does not "
            "combine with --model (use --membership)"
        )
    if args.collaboration_models:
        policy_set = policy_set.with_resource_types(frozenset(ResourceType))
    settings = ScanSettings(
        regions=tuple(args.region),
        profile=args.profile,
        accounts=load_accounts_file(args.accounts) if args.accounts else (),
        org_role=args.org,
        org_external_id=args.external_id,
        shard=args.shard,
        max_parallel=args.max_parallel,
        workers=args.workers,
        unit_timeout=args.account_timeout,
        role_duration=args.role_duration,
        scope=CrawlScope(
            memberships=tuple(args.membership),
            model_arns=tuple(args.model),
            latest_only=args.latest_only,
            collaboration_models=args.collaboration_models,
            collaboration_claims=CollaborationClaims() if args.collaboration_models else None,
        ),
        crawl=CrawlConfig(concurrency=args.concurrency, deadline=args.timeout),
    )
    return _finish(_scan_report(args, policy_set, options, settings), args)


def cmd_demo(args: argparse.Namespace) -> int:
    """Exits 0 when the demo itself worked, whatever the gate says (the contract)."""
    parse_formats(args.format)
    if not args.policies:  # the demo fleet's context is worth seeing: both shipped packs
        args.policies = [default_pack_path(), context_pack_path()]
    policy_set = _load_policy_set(args)
    options = _report_options(args)
    demo = DemoSettings(
        seed=args.seed,
        memberships=args.memberships,
        models=args.models,
        rate=args.rate,
        latency_ms=args.latency_ms,
    )
    with running_emulator(demo) as (server, fleet):
        _say(
            f"emulator: {server.endpoint_url} serving {fleet.version_count} versions of "
            f"{len(fleet.models)} models in {len(fleet.memberships)} memberships; "
            f"{demo.rate:g} requests/s per operation (the scanner is not told)"
        )
        others = fleet.collaboration_models
        _say(
            f"emulator: and {sum(len(m.versions) for m in others)} versions of {len(others)} "
            "models other members trained in those collaborations"
        )
        started = time.monotonic()
        view = CrawlScope(collaboration_models=True, collaboration_claims=CollaborationClaims())
        policy_set = policy_set.with_resource_types(frozenset(ResourceType))
        with demo_environment(server.endpoint_url):
            tally = ContextTally()
            report = _scan_report(args, policy_set, options, ScanSettings(scope=view), tally)
        wall = time.monotonic() - started
        calls = server.counters.snapshot()
    code = _finish(report, args)
    read = sum(1 for v in report.verdicts if v.resource.type is ResourceType.TRAINED_MODEL)
    # each operation is limited on its own: the floor is the busiest one's answered calls
    answered = {op: int(n.get("200", 0)) for op, n in calls["statuses"].items()}
    busiest, needed = max(answered.items(), key=lambda item: item[1], default=("-", 0))
    floor = max(needed, 1) / demo.rate
    _say(
        f"scanner: read {read} of {fleet.version_count} versions "
        f"({fleet.version_count - read} lost) in {wall:.1f} s; the rate-limit floor is "
        f"{floor:.1f} s ({needed} {busiest} calls at {demo.rate:g}/s): "
        f"{wall / floor:.2f}x"
    )
    _say(
        f"emulator: {calls['total']} calls, {sum(calls['throttled'].values())} throttled and "
        f"retried; by operation: "
        f"{', '.join(f'{op} {n}' for op, n in sorted(calls['operations'].items()))}"
    )
    _say(tally.line())
    _say(collaboration_line(report))
    _say(f"gate exit code would be {code} (the demo itself exits 0)")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    parse_formats(args.format)
    policy_set = _load_policy_set(args)
    options = _report_options(args)
    builder = ReportBuilder(policy_set, mode="evaluate")
    for path in args.input:
        builder.add_all(read_input(path))  # InputFileError (a usage error) if unreadable
    return _finish(builder.build(options), args)


def cmd_merge(args: argparse.Namespace) -> int:
    """Exit codes as `scan`: 0 pass, 1 gate failed, 2 unusable input, 3 incomplete."""
    parse_formats(args.format)
    options = _report_options(args)
    reports = [(str(path), _read_report_file(path)) for path in args.reports]
    return _finish(merge_reports(reports, options), args)


def cmd_policies(args: argparse.Namespace) -> int:
    command = args.policies_command
    if command == "schema":
        _say(json.dumps(pack_schema(), indent=2))
        return EXIT_OK
    args.policies = [*args.paths, *(args.policies or [])]
    if command == "list":
        rows = list_policies(_load_policy_set(args))
        if args.json:
            _say(json.dumps([dataclasses.asdict(row) for row in rows], indent=2, default=str))
        else:
            for row in rows:
                state = "" if row.enabled else "  (disabled)"
                if row.resource_type is not ResourceType.TRAINED_MODEL:
                    state += f"  [{row.resource_type}]"
                _say(f"{row.id:38} {row.severity.value:8} {row.title}{state}")
        return EXIT_OK
    policy_set = load_packs(args.policies or [default_pack_path()], {})
    if command == "validate":
        for pack in policy_set.packs:
            _say(f"ok: {pack.path} ({pack.id})")
        enabled = policy_set.with_resource_types(frozenset(ResourceType)).infos
        _say(f"{len(enabled)} policies valid")
        return EXIT_OK
    outcomes = run_examples(policy_set)
    failed = [o for o in outcomes if not o.ok]
    for outcome in outcomes:
        if not outcome.ok:
            print(f"FAIL: {outcome.describe()}", file=sys.stderr)
        elif isinstance(outcome, MissingExamples):
            print(outcome.describe(), file=sys.stderr)
    _say(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed (policy examples)")
    return EXIT_GATE_FAILED if failed else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    formats = parse_formats(args.format)
    report = _read_report_file(args.input)
    _, code = _write_and_tell(report, args.output_dir, formats, None)
    return EXIT_OK if code is None else code


def cmd_diff(args: argparse.Namespace) -> int:
    diff = diff_reports(_read_report_file(args.old), _read_report_file(args.new))
    if args.json:
        _say(json.dumps(diff_json(diff), indent=2))
    else:
        _say(render_diff_text(diff), end="")
    return EXIT_GATE_FAILED if diff.new else EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """Exit 0 when Security Hub holds every finding, 3 when some were refused or a call
    failed for good (each named on stderr), 2 for a usage or configuration error."""
    from auditor.securityhub.command import publish_to_security_hub

    report = _read_report_file(args.report)
    outcome = publish_to_security_hub(report, region=args.region, profile=args.profile)
    for line in outcome.lines:
        if line.startswith(("refused:", "stopped:")):
            print(f"  {line}", file=sys.stderr)
        else:
            _say(line)
    return EXIT_OK if outcome.complete else EXIT_INCOMPLETE


COMMANDS = {
    "scan": cmd_scan,
    "demo": cmd_demo,
    "evaluate": cmd_evaluate,
    "policies": cmd_policies,
    "report": cmd_report,
    "merge": cmd_merge,
    "diff": cmd_diff,
    "publish": cmd_publish,
}


def main(argv: Sequence[str] | None = None) -> int:
    """The `auditor` command; returns its exit code (see the module docstring)."""
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    handle_signals_as_interrupts()
    try:
        with _tolerant_stdio():
            return _main(argv)
    finally:
        if threading.current_thread() is threading.main_thread():
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)


def _main(argv: Sequence[str] | None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt as exc:
        name = exc.args[0] if exc.args else "SIGINT"
        _tell(f"auditor: interrupted by {name} before a verdict; no report written")
        return EXIT_INCOMPLETE
    except SystemExit:
        raise
    except UsageError as exc:
        _tell(f"auditor: error: {exc}")
        return EXIT_USAGE
    except AuditorError as exc:
        _tell(f"auditor: error: {exc}")
        return EXIT_USAGE
    except FileSetWriteError as exc:  # a report set is handled in _finish; still named here
        _tell(f"auditor: error: cannot write {exc.filename}: {exc.strerror or exc}")
        return EXIT_REPORTS_NOT_WRITTEN
    except OSError as exc:  # the machine, before any scan (a port, too many open files)
        where = f"{exc.filename}: " if exc.filename else ""
        _tell(f"auditor: error: {where}{exc.strerror or exc}")
        return EXIT_USAGE
    except Exception:  # the outermost boundary: a bug, shown as one
        traceback.print_exc(file=sys.stderr)
        _tell(
            f"auditor: internal error (a bug in auditor {__version__}; please report it "
            f"with the traceback above); exit {EXIT_INTERNAL_ERROR}"
        )
        return EXIT_INTERNAL_ERROR


def _run(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["emulator"]:
        from auditor.emulator import main as emulator_main

        return emulator_main(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(arguments)
    # What is loaded by now (the SDK, the policy engine) lives as long as the process: take
    # it out of the collector's view, or each full collection walks it all again and stalls
    # the event loop ~50 ms mid-scan (a 1% dip in throughput at 400 requests/s).
    gc.freeze()
    redact.install()  # before any handler exists: no log line may carry a credential
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # The SDK's INFO lines ("Found credentials in environment variables") are noise here.
        for noisy in ("botocore", "aiobotocore", "boto3", "aioboto3", "aiohttp"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return COMMANDS[args.command](args)
