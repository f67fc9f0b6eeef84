"""`auditor scan --workers N`: the same report as one process, interruption and --timeout.

Every scan here is the real CLI driving the real SDK against the emulator; with workers the
crawl runs in spawned worker processes, which inherit the environment pointing at it.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from auditor import prefork
from auditor.cli import main
from auditor.crawler import CrawlStats
from auditor.crawler.ratecontrol import SLOT_WIDTH, RateConfig, SharedPacer
from auditor.emulator import EmulatorServer
from auditor.emulator.config import EmulatorConfig, Fault, FaultKind, RateLimit
from auditor.fleet import Fleet, generate_fleet
from auditor.models import ErrorScope, ListingComplete, ScanError
from auditor.policy import context_pack_path, default_pack_path
from auditor.scan import Unit
from auditor.shard import model_share
from auditor.workers import CLAIM_SLOTS, SharedClaims, _Progress, plan_jobs
from tests.crawler.fakeclock import FakeClock
from tests.sdk_env import point_sdk_at

EAST, WEST = "us-east-1", "us-west-2"


def regional_fleet(regions: tuple[str, ...], models: int, seed: int = 5) -> Fleet:
    """One generated fleet per region, side by side in one emulator."""
    parts = [
        generate_fleet(
            seed=seed + i, memberships=3, models=models, versions_per_model=(1, 3), region=region
        )
        for i, region in enumerate(regions)
    ]
    return Fleet(
        memberships=tuple(m for part in parts for m in part.memberships),
        models=tuple(m for part in parts for m in part.models),
    )


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    servers: list[EmulatorServer] = []

    def start(fleet: Fleet, config: EmulatorConfig | None = None) -> EmulatorServer:
        server = EmulatorServer(fleet, config)
        server.start()
        servers.append(server)
        point_sdk_at(monkeypatch, server.endpoint_url)
        return server

    yield start
    for server in servers:
        server.stop()


def _scan(out: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", "--quiet", "--format", "json", "--output-dir", str(out), *argv])
    return code, json.loads((out / "report.json").read_text())


def _results(report: dict[str, Any]) -> dict[tuple[str, str | None, str], tuple[Any, ...]]:
    """Every result by version and policy: status, severity, evidence."""
    return {
        (r["resource"]["arn"], r["resource"]["version_identifier"], r["policy_id"]): (
            r["status"],
            r.get("severity"),
            json.dumps(r.get("evidence"), sort_keys=True),
            json.dumps(r["resource"], sort_keys=True),
        )
        for r in report["results"]
    }


def _errors(report: dict[str, Any]) -> list[str]:
    return sorted(json.dumps(e, sort_keys=True) for e in report["errors"])


def _same_scan(one: dict[str, Any], many: dict[str, Any]) -> None:
    assert _results(many) == _results(one)
    assert _errors(many) == _errors(one)
    assert many["summary"] == one["summary"]
    assert many["scan"]["complete"] == one["scan"]["complete"]
    assert many["scan"]["regions"] == one["scan"]["regions"]
    read = "memberships_read"
    key = lambda m: json.dumps(m, sort_keys=True)  # noqa: E731
    assert sorted(many["scan"].get(read, []), key=key) == sorted(one["scan"].get(read, []), key=key)


def _faulty(fleet: Fleet) -> EmulatorConfig:
    """A membership refused, a model whose versions cannot be listed, a malformed body:
    errors at every level, in both regions."""
    east = [m for m in fleet.models if f":{EAST}:" in m.arn]
    west = [m for m in fleet.models if f":{WEST}:" in m.arn]
    denied = next(m.id for m in fleet.memberships if m.region == WEST)
    bad_version = east[1].versions[0].version_identifier
    return EmulatorConfig(
        deny_memberships=frozenset({denied}),
        faults={
            east[0].arn: Fault(FaultKind.SERVER_ERROR),
            f"{east[1].arn}#{bad_version}": Fault(FaultKind.WRONG_TYPES),
            west[1].arn: Fault(FaultKind.NOT_JSON),  # the denied membership is west[0]'s
        },
    )


def test_two_regions_in_two_workers_report_exactly_what_one_process_does(
    serve: Any, tmp_path: Path
) -> None:
    fleet = regional_fleet((EAST, WEST), models=14)
    serve(fleet, _faulty(fleet))
    args = ("--region", EAST, "--region", WEST)
    code_one, one = _scan(tmp_path / "one", *args, "--workers", "1")
    code_two, two = _scan(tmp_path / "two", *args, "--workers", "2")
    assert not prefork.running()  # the workers' fork server ended with the crawl
    code_default, default = _scan(tmp_path / "default", *args)  # the cores, at most two
    assert code_two == code_one == code_default
    _same_scan(one, two)
    _same_scan(one, default)
    assert one["summary"]["versions"] > 0
    assert {e["code"] for e in one["errors"]} >= {"AccessDeniedException", "MalformedResponse"}
    assert {r["resource"]["region"] for r in two["results"]} == {EAST, WEST}


def test_one_region_split_over_two_workers_reports_what_one_process_does(
    serve: Any, tmp_path: Path
) -> None:
    fleet = regional_fleet((EAST, WEST), models=16)
    serve(fleet, _faulty(fleet))
    for region in (EAST, WEST):  # WEST: a denied membership, met by both shares, once
        code_one, one = _scan(tmp_path / f"one-{region}", "--region", region, "--workers", "1")
        code_two, two = _scan(tmp_path / f"two-{region}", "--region", region, "--workers", "2")
        assert code_two == code_one
        _same_scan(one, two)
        assert one["errors"], "the faults must show in the comparison"
        assert 1 <= len(one["scan"]["memberships_read"]) < 3, "some listed in full, not all"


CONTEXT_PACKS = ("--policies", str(default_pack_path()), "--policies", str(context_pack_path()))
COLLABORATION = "collaboration-trained-model"


def _lineage(report: dict[str, Any]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in report.get("lineage", []))


@pytest.mark.parametrize("regions", [(EAST,), (EAST, WEST)], ids=["split", "two-regions"])
def test_context_and_collaboration_models_in_two_workers_report_what_one_process_does(
    serve: Any, tmp_path: Path, regions: tuple[str, ...]
) -> None:
    """Context documents (related resources, some unreadable: another account's algorithms)
    and other members' models: the workers' report is one process's, lineage and all, and
    each collaboration is listed once per scan however many workers find it."""
    parts = [
        generate_fleet(
            seed=9 + i,
            memberships=2,
            models=10,
            versions_per_model=(1, 3),
            region=region,
            context=True,
            collaboration_models=8,
        )
        for i, region in enumerate(regions)
    ]
    fleet = Fleet(
        memberships=tuple(m for part in parts for m in part.memberships),
        models=tuple(m for part in parts for m in part.models),
        collaboration_models=tuple(m for part in parts for m in part.collaboration_models),
        context=parts[0].context if len(parts) == 1 else _merged_context(parts),
    )
    # an input channel that models of both shares (of a split region) train on cannot be read
    shares: dict[str, set[int]] = {}
    for model in fleet.models:
        for version in model.versions:
            for channel in version.document["dataChannels"]:
                shares.setdefault(channel["mlInputChannelArn"], set()).add(
                    model_share(model.arn, 2)
                )
    broken = min(arn for arn, found in shares.items() if found == {0, 1})
    server = serve(fleet, EmulatorConfig(faults={broken: Fault(FaultKind.NOT_JSON)}))
    args = [*CONTEXT_PACKS, "--collaboration-models"]
    for region in regions:
        args += ["--region", region]
    reports: dict[str, dict[str, Any]] = {}
    codes: dict[str, int] = {}
    listed: dict[str, dict[str, int]] = {}
    for workers in ("1", "2"):
        server.counters.reset()
        codes[workers], reports[workers] = _scan(tmp_path / workers, *args, "--workers", workers)
        listed[workers] = dict(
            server.counters.snapshot()["resources"]["ListCollaborationTrainedModels"]
        )
    one, two = reports["1"], reports["2"]
    assert codes["2"] == codes["1"]
    _same_scan(one, two)
    assert _lineage(two) == _lineage(one)
    # what makes the comparison mean something: context was read and judged, lineage built,
    # other members' models audited, and an unreadable related resource reported
    context_policies = {p["id"] for p in two["policies"] if "$" in json.dumps(p)}
    assert {r["policy_id"] for r in two["results"]} & context_policies
    assert _lineage(one)
    shared = {
        r["resource"]["arn"] for r in two["results"] if r["resource"]["type"] == COLLABORATION
    }
    assert shared == {m.arn for m in fleet.collaboration_models}
    assert [e["resource_arn"] for e in two["errors"] if e["scope"] == "related"] == [broken]
    collaborations = {m.collaboration_id for m in fleet.memberships}
    assert listed["1"] == listed["2"] == dict.fromkeys(collaborations, 1)


def _merged_context(parts: list[Fleet]) -> Any:
    first = parts[0].context
    merged = {}
    for spec in dataclass_fields(first):
        values = [getattr(part.context, spec.name) for part in parts]
        if isinstance(values[0], Mapping):
            merged[spec.name] = {k: v for value in values for k, v in value.items()}
        else:
            merged[spec.name] = tuple(x for value in values for x in value)
    return type(first)(**merged)


def test_a_collaboration_is_claimed_once_across_processes_sharing_the_table() -> None:
    """Two workers' claims over one shared table: the first claim of an id wins wherever
    it is made, and ids with the same table slot do not shadow each other."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    array, lock = context.RawArray("Q", 2 * CLAIM_SLOTS), context.Lock()
    first = SharedClaims(array, lock, {"111111111111"})
    second = SharedClaims(array, lock, set())
    ids = [f"collaboration-{i}" for i in range(200)]
    assert [first.claim(i) for i in ids[::2]] == [True] * 100
    assert [second.claim(i) for i in ids] == [i % 2 == 1 for i in range(200)]
    assert not any(first.claim(i) for i in ids)
    assert len(first) == 100
    assert len(second) == 100
    assert first.scanned_accounts == {"111111111111"}


def test_a_full_claim_table_still_reads_every_collaboration() -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    claims = SharedClaims(context.RawArray("Q", 4), context.Lock(), set())  # two slots
    assert [claims.claim(f"c{i}") for i in range(4)] == [True] * 4  # none is lost
    assert [claims.claim(f"c{i}") for i in range(4)] == [False] * 4


def test_shares_of_a_split_partition_the_models() -> None:
    arns = [m.arn for m in regional_fleet((EAST,), models=40).models]
    shares = [model_share(arn, 3) for arn in arns]
    assert set(shares) == {0, 1, 2}
    assert shares == [model_share(arn, 3) for arn in arns]  # the same in every process
    jobs = plan_jobs([(None, Unit("", EAST))], 3)
    assert [job.share for job in jobs] == [(0, 3), (1, 3), (2, 3)]
    assert {job.slot for job in jobs} == {0}
    units = [(None, Unit("", EAST)), (None, Unit("", WEST))]
    assert [(j.region, j.share) for j in plan_jobs(units, 2)] == [(EAST, None), (WEST, None)]


def test_a_membership_is_listed_in_full_only_when_every_share_listed_it() -> None:
    jobs = plan_jobs([(None, Unit("", EAST))], 2)
    progress = _Progress(jobs, stats=CrawlStats())
    done = ListingComplete("m-1", account="111122223333", region=EAST)
    assert progress.admit(jobs[0], done) is None
    assert progress.admit(jobs[1], done) == done
    error = ScanError(
        scope=ErrorScope.MEMBERSHIP,
        operation="ListTrainedModels",
        code="AccessDeniedException",
        message="denied",
        membership_id="m-2",
        region=EAST,
    )
    assert progress.admit(jobs[0], error) == error
    assert progress.admit(jobs[1], replace(error, attempts=3)) is None  # the same, once
    other = replace(error, membership_id="m-3")
    assert progress.admit(jobs[1], other) == other  # met by one share only: still reported


class _Shared:
    """What a worker sees of the shared slots, in one process for a fake clock."""

    def __init__(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.array = context.RawArray("d", SLOT_WIDTH)
        self._lock = context.Lock()

    def lock(self) -> Any:
        return self._lock


def test_shared_pacers_send_together_at_one_rate_and_learn_together() -> None:
    clock = FakeClock(100.0)
    shared = _Shared()
    config = RateConfig(initial_rate=50.0, max_rate=50.0)
    first = SharedPacer(shared, 0, config, clock)
    second = SharedPacer(shared, 0, config, clock)  # another process's view of the slot
    sent: list[float] = []

    async def take(pacer: SharedPacer, count: int) -> None:
        for _ in range(count):
            sent.append((await pacer.acquire()).sent_at)

    async def both() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(take, first, 20)
            tg.start_soon(take, second, 20)

    anyio.run(both)
    sent.sort()
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(sent) == 40
    assert min(gaps) >= 1 / 50 - 1e-9  # together at 50/s, not 50/s each
    ticket = first.controller.on_send(clock.now(), backlogged=True)
    clock.time += 1.0
    for _ in range(3):
        first.throttled(replace(ticket, sent_at=clock.now(), epoch=ticket.epoch))
    second._load()
    assert second.controller.throttles == first.controller.throttles >= 3
    assert second.controller.phase == first.controller.phase


def test_account_rate_takes_a_burst() -> None:
    from auditor.emulator.command import build_parser, config_from_args

    args = build_parser().parse_args(["--account-rate", "111122223333=200:5"])
    assert config_from_args(args).account_rate_limits == {
        "111122223333": RateLimit(rate=200.0, burst=5)
    }


# --- interruption and --timeout, as a user runs it -------------------------------------------


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            for child in map(int, text.split()):
                found |= {child} | _children(child)
    except OSError:
        pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


_STARTED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_scan_left_behind() -> Iterator[None]:
    """A scan that a failing test leaves running (a hang) is killed with its whole process
    group, fork server and workers included, instead of outliving the test run."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _start_scan(out: Path, *argv: str) -> subprocess.Popen[bytes]:
    """The CLI in a process group of its own (its pid is the group's id), as a terminal, a
    service manager or ``kill -- -PGID`` would signal it."""
    command = [sys.executable, "-m", "auditor", "scan", "--quiet", "--format", "json"]
    process = subprocess.Popen(
        [*command, "--output-dir", str(out), "--region", EAST, "--region", WEST, *argv],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _STARTED.append(process)
    return process


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
@pytest.mark.parametrize(
    ("signum", "group"),
    [
        (signal.SIGINT, False),
        (signal.SIGTERM, False),
        (signal.SIGINT, True),  # Ctrl-C in a terminal: the whole process group
        (signal.SIGTERM, True),  # a service manager stopping the job: every process of it
    ],
)
def test_a_signal_mid_scan_reaches_every_worker_and_the_partial_report_is_written(
    serve: Any, tmp_path: Path, signum: signal.Signals, group: bool
) -> None:
    fleet = regional_fleet((EAST, WEST), models=60)
    server = serve(fleet, EmulatorConfig(rate_limit=RateLimit(rate=15.0, burst=1)))
    process = _start_scan(tmp_path / "out", "--workers", "2")
    workers, helpers = _watch_workers(process, server)
    assert process.poll() is None, "the scan ended before it could be interrupted"
    if group:  # the fork server and the workers get it too, and must leave the stop to the scan
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stderr.decode()[-2000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["scan"]["interrupted"] is True
    assert report["scan"]["complete"] is False
    codes = {e["code"] for e in report["errors"]}
    assert codes == {"ScanInterrupted"}
    regions = {e["region"] for e in report["errors"]}
    assert regions == {EAST, WEST}  # both workers stopped and said what they did not read
    assert 0 < report["summary"]["versions"] < fleet.version_count
    assert signum.name in report["scan"]["unreached"][0]
    assert workers, "no worker processes were seen"
    assert not _still_alive(workers), "worker processes outlived the scan"
    assert not _still_alive(helpers), "the fork server outlived the scan"


def test_timeout_with_workers_reports_what_was_not_reached(serve: Any, tmp_path: Path) -> None:
    fleet = regional_fleet((EAST, WEST), models=60)
    serve(fleet, EmulatorConfig(rate_limit=RateLimit(rate=15.0, burst=1)))
    process = _start_scan(tmp_path / "out", "--workers", "2", "--timeout", "4")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stderr.decode()[-2000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["scan"]["complete"] is False
    assert report["scan"]["interrupted"] is False
    assert {e["code"] for e in report["errors"]} == {"ScanDeadlineExceeded"}
    assert {e["region"] for e in report["errors"]} == {EAST, WEST}
    assert any("--timeout 4s reached" in line for line in report["scan"]["unreached"])
    assert report["summary"]["versions"] < fleet.version_count


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _worker_pids(pid: int) -> set[int]:
    """The scan's worker processes: the fork server's children (or spawned interpreters),
    not the fork server itself nor multiprocessing's resource tracker."""
    return {
        child
        for child in _children(pid)
        if b"spawn_main" in _command(child) or b"forkserver" in _command(_parent(child))
    }


def _watch_workers(process: subprocess.Popen[bytes], server: Any) -> tuple[set[int], set[int]]:
    """The scan's workers and its other helper processes (the fork server, multiprocessing's
    resource tracker), watched until both workers run and versions are being read, or the
    scan ends."""
    workers: set[int] = set()
    helpers: set[int] = set()
    for _ in range(3000):
        workers |= _worker_pids(process.pid)
        helpers |= _children(process.pid) - workers
        reads = server.counters.snapshot()["statuses"].get("GetTrainedModel", {})
        if (sum(reads.values()) >= 4 and len(workers) >= 2) or process.poll() is not None:
            break
        time.sleep(0.01)
    return workers, helpers


def _still_alive(pids: set[int], attempts: int = 500) -> list[int]:
    """Those of ``pids`` still alive after waiting up to ``attempts`` x 10 ms for them to end."""
    for _ in range(attempts):
        if not any(_alive(pid) for pid in pids):
            break
        time.sleep(0.01)
    return [pid for pid in pids if _alive(pid)]


def _scan_with_two_busy_workers(
    serve: Any, tmp_path: Path
) -> tuple[Fleet, subprocess.Popen[bytes], set[int]]:
    """A two-region ``--workers 2`` scan, returned once both workers run and versions are read."""
    fleet = regional_fleet((EAST, WEST), models=60)
    server = serve(fleet, EmulatorConfig(rate_limit=RateLimit(rate=15.0, burst=1)))
    process = _start_scan(tmp_path / "out", "--workers", "2")
    workers, _ = _watch_workers(process, server)
    assert process.poll() is None
    assert len(workers) == 2
    return fleet, process, workers


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_worker_that_dies_costs_its_account_regions_as_errors_never_silently(
    serve: Any, tmp_path: Path
) -> None:
    fleet, process, workers = _scan_with_two_busy_workers(serve, tmp_path)
    os.kill(min(workers), signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stderr.decode()[-2000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["scan"]["complete"] is False
    failed = [e for e in report["errors"] if e["code"] == "WorkerFailed"]
    assert failed, report["errors"]
    assert all(e["region"] in (EAST, WEST) and "not read" in e["message"] for e in failed)
    assert report["summary"]["versions"] < fleet.version_count
    assert not _still_alive(workers)


def test_the_scan_counters_are_the_jobs_latest_counters_added_up() -> None:
    units = [(None, Unit("", EAST)), (None, Unit("", WEST))]
    split = plan_jobs(units[:1], 2)
    whole = plan_jobs(units, 2)
    stats = CrawlStats()
    progress = _Progress(whole, stats)
    first = CrawlStats(memberships=2, versions_done=5, versions_discovered=9)
    first.calls["GetTrainedModel"] = 5
    progress.update(0, first)
    later = CrawlStats(memberships=2, versions_done=8, versions_discovered=9, errors=1)
    later.calls["GetTrainedModel"] = 8
    progress.update(0, later)  # replaces the job's earlier counters, not added to them
    other = CrawlStats(memberships=1, versions_done=3, versions_discovered=4)
    other.calls["GetTrainedModel"] = 3
    progress.update(1, other)
    assert (stats.memberships, stats.versions_done, stats.versions_discovered) == (3, 11, 13)
    assert stats.errors == 1
    assert stats.calls["GetTrainedModel"] == 11
    shared = CrawlStats()
    shares = _Progress(split, shared)
    shares.update(0, CrawlStats(memberships=3, models=4))
    shares.update(1, CrawlStats(memberships=3, models=5))
    assert (shared.memberships, shared.models) == (3, 9)  # the same memberships, listed twice


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_workers_end_with_a_parent_that_was_killed(serve: Any, tmp_path: Path) -> None:
    _, process, workers = _scan_with_two_busy_workers(serve, tmp_path)
    process.kill()
    process.wait(timeout=30)
    assert not _still_alive(workers, attempts=1000), "workers outlived a killed parent"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_second_signal_stops_the_workers_at_once_and_still_writes_the_report(
    serve: Any, tmp_path: Path
) -> None:
    fleet, process, workers = _scan_with_two_busy_workers(serve, tmp_path)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stderr.decode()[-2000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["scan"]["interrupted"] is True
    assert report["scan"]["complete"] is False
    assert report["summary"]["versions"] < fleet.version_count
    assert not _still_alive(workers)


def test_the_cores_are_the_default_at_most_one_worker_per_account_region() -> None:
    from auditor.cli import build_parser
    from auditor.scan import ScanSettings, default_workers

    parser = build_parser()
    assert parser.parse_args(["scan"]).workers == 0  # 0: decided once the plan is known
    assert parser.parse_args(["scan", "--workers", "2"]).workers == 2
    assert ScanSettings().workers == 1  # a library caller gets no processes unasked
    cores = prefork.usable_cores()
    assert default_workers(1) == 1  # one account-region: crawled in the scan's own process
    assert default_workers(2) == min(cores, 2)
    assert default_workers(10_000) == cores
    with pytest.raises(SystemExit):
        parser.parse_args(["scan", "--workers", "0"])


@pytest.mark.parametrize(
    ("argv", "starts"),
    [
        (["scan", "--workers", "2"], True),
        (["scan", "--workers=3", "--region", "us-east-1"], True),
        (["scan", "--workers", "1", "--region", "us-east-1", "--region", "us-west-2"], False),
        (["scan", "--region", "us-east-1", "--region", "us-west-2"], "cores"),
        (["scan", "--region=all"], "cores"),
        (["scan", "--accounts", "accounts.yaml"], "cores"),
        (["scan", "--org", "AuditRole"], "cores"),
        (["scan", "--region", "us-east-1"], False),
        (["scan"], False),
        (["scan", "--workers", "two"], False),  # left to the parser to refuse
        (["demo", "--workers", "2"], False),
        (["evaluate", "--input", "x.json"], False),
        ([], False),
    ],
)
def test_the_fork_server_is_started_early_only_for_a_scan_that_will_run_workers(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], starts: bool | str
) -> None:
    started: list[bool] = []
    monkeypatch.setattr(prefork, "start", lambda: started.append(True))
    prefork.start_early(argv)
    expected = prefork.usable_cores() > 1 if starts == "cores" else starts
    assert started == ([True] if expected else [])


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
)
def test_workers_come_from_a_fork_server_that_has_imported_the_scanner() -> None:
    context = prefork.process_context()
    assert context.get_start_method() == "forkserver"
    prefork.start()
    server = multiprocessing.forkserver._forkserver._forkserver_pid
    try:
        assert prefork.running()
        assert server
        with context.Pool(1) as pool:  # a fork of the server: the scanner is already imported
            assert all(pool.apply(_imported, (PRELOAD_PROBE,)))
            assert pool.apply(gc.get_freeze_count) > 10_000  # and frozen out of collections
        os.kill(server, signal.SIGTERM)  # a stop of the whole job: the scan decides, not it
        with context.Pool(1) as pool:
            assert pool.apply(_imported, (PRELOAD_PROBE,))
    finally:
        prefork.stop()
    assert not prefork.running()
    with pytest.raises(ChildProcessError):  # ended and reaped here: its CPU counts as ours
        os.waitpid(server, os.WNOHANG)
    multiprocessing.forkserver.ensure_running()  # somebody else's server in this process
    try:
        prefork.stop()
        assert prefork.running(), "stop ended a server it had not started"
    finally:
        multiprocessing.forkserver._forkserver._stop()


PRELOAD_PROBE = ("auditor.scan", "aiobotocore.client", "auditor.crawler.aws")


def _imported(names: tuple[str, ...]) -> list[bool]:
    """In the worker: which of ``names`` were imported before this call (by the server)."""
    return [name in sys.modules for name in names]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
@pytest.mark.skipif(prefork.usable_cores() < 2, reason="the default is one process on one core")
def test_a_scan_of_two_regions_runs_two_workers_by_default_and_leaves_no_process_behind(
    serve: Any, tmp_path: Path
) -> None:
    fleet = regional_fleet((EAST, WEST), models=40)
    server = serve(fleet, EmulatorConfig(rate_limit=RateLimit(rate=20.0, burst=1)))
    process = _start_scan(tmp_path / "out")  # two regions, no --workers
    workers, helpers = _watch_workers(process, server)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in (0, 1), stderr.decode()[-2000:]
    assert len(workers) == 2, "two account-regions on two cores: two workers"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["summary"]["versions"] == fleet.version_count
    assert not _still_alive(workers | helpers), "processes outlived the scan"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_scan_of_one_region_stays_in_one_process(serve: Any, tmp_path: Path) -> None:
    fleet = regional_fleet((EAST,), models=40)
    server = serve(fleet, EmulatorConfig(rate_limit=RateLimit(rate=20.0, burst=1)))
    process = subprocess.Popen(
        [sys.executable, "-m", "auditor", "scan", "--quiet", "--format", "json",
         "--output-dir", str(tmp_path / "out"), "--region", EAST],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    seen: set[int] = set()
    while process.poll() is None:
        seen |= _children(process.pid)
        time.sleep(0.01)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in (0, 1), stderr.decode()[-2000:]
    assert server.counters.snapshot()["statuses"]["GetTrainedModel"]
    assert not seen, "a one-region scan started other processes"
