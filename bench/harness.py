"""What every end-to-end benchmark needs: an emulator in its own process, a measured child.

The emulator runs as a separate process (its own interpreter, so it does not share the GIL
of what it serves); the thing measured runs as another child, reaped with ``os.wait4`` so its
own CPU time and peak RSS are read exactly, not mixed with the emulator's.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.emulator.command import READY_PREFIX

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True, slots=True)
class FleetShape:
    """A generated fleet: the emulator's ``--seed/--memberships/--models/--versions-per-model``."""

    models: int
    versions_per_model: tuple[int, int] = (1, 1)
    memberships: int = 3
    seed: int = 7
    context: bool = False  # also serve the versions' related resources (``--context``)

    def args(self) -> list[str]:
        low, high = self.versions_per_model
        return [
            "--seed", str(self.seed), "--memberships", str(self.memberships),
            "--models", str(self.models), "--versions-per-model", f"{low},{high}",
            *(["--context"] if self.context else []),
        ]  # fmt: skip

    def version_count(self) -> int:
        """How many versions the emulator will serve (the generator is deterministic)."""
        from auditor.fleet import generate_fleet

        low, high = self.versions_per_model
        if low == high:
            return self.models * low
        fleet = generate_fleet(
            seed=self.seed,
            memberships=self.memberships,
            models=self.models,
            versions_per_model=self.versions_per_model,
        )
        return fleet.version_count


@dataclass(frozen=True, slots=True)
class Emulator:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """The emulator process's CPU time so far (Linux ``/proc``; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def counters(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/_emulator/counters", timeout=10) as response:
            counters: dict[str, Any] = json.loads(response.read())
        return counters

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/_emulator/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def env(self) -> dict[str, str]:
        """The environment that points an AWS SDK client at this emulator."""
        return {
            **os.environ,
            **CREDENTIALS,
            "AWS_ENDPOINT_URL_CLEANROOMS": self.url,
            "AWS_ENDPOINT_URL_CLEANROOMSML": self.url,
        }


@contextmanager
def emulator(
    fleet: FleetShape,
    *,
    rate: float | None = None,
    burst: int | None = None,
    latency_ms: float = 0,
    knobs: Sequence[str] = (),
) -> Iterator[Emulator]:
    """A running emulator serving ``fleet``, stopped on exit; ``knobs``: more of its flags
    (``--error-rate 0.15 --page-cap 3``)."""
    command = [sys.executable, "-m", "auditor.emulator", *fleet.args(), *knobs]
    if rate is not None:
        command += ["--rate", f"{rate:g}"]
        if burst is not None:
            command += ["--burst", str(burst)]
    if latency_ms:
        command += ["--latency-ms", f"{latency_ms:g}"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            if not line.startswith(READY_PREFIX):
                raise RuntimeError(f"emulator did not start: {line!r}")
            yield Emulator(line.removeprefix(READY_PREFIX), process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@dataclass(frozen=True, slots=True)
class Measured:
    """One child process: its exit code, wall time, CPU seconds, peak RSS and stdout."""

    returncode: int
    wall: float
    cpu: float
    peak_rss_mb: float
    stdout: str
    timed_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def hwm_mb(pid: int) -> float:
    """A live process's own peak RSS (``VmHWM``), 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_measured(command: Sequence[str], *, env: dict[str, str], timeout: float) -> Measured:
    """Run ``command`` to the end (SIGTERM after ``timeout`` s, SIGKILL 5 s later); its own
    rusage, not the tree's.

    Peak RSS is the child's ``VmHWM``, polled while it runs: ``ru_maxrss`` would also count
    the pages of this process the child inherited from the fork before its exec.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        timed_out = False
        peak_mb = 0.0
        while True:
            peak_mb = max(peak_mb, hwm_mb(process.pid))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                timed_out = True
                process.terminate()  # a child may report what it did so far, then exit
                for _ in range(500):
                    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                    if pid:
                        break
                    time.sleep(0.01)
                else:
                    process.kill()
                    _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        if process.returncode not in (0, 1, 3) and not timed_out:
            sys.stderr.write(err.read().decode(errors="replace")[-3000:])
    return Measured(
        returncode=process.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak_mb or usage.ru_maxrss / 1024,  # ru_maxrss: kilobytes on Linux
        stdout=stdout,
        timed_out=timed_out,
    )


def scan_command(output_dir: Path, *, formats: str = "json,html") -> list[str]:
    """``auditor scan`` as a user runs it (console script of this interpreter's venv)."""
    script = VENV_BIN / "auditor"
    prefix = [str(script)] if script.exists() else [sys.executable, "-m", "auditor"]
    return [
        *prefix, "scan", "--quiet", "--output-dir", str(output_dir), "--format", formats,
        "--allow-incomplete",
    ]  # fmt: skip


def report_head(path: Path) -> dict[str, Any]:
    """``summary.versions`` and the scan's ``started_at``/``finished_at`` from a report.json.

    Reads only the head: the file is ~1 GB at 100,000 versions, and loading it would make
    this process (and every child forked from it later) that big.
    """
    with path.open("rb") as handle:
        head = handle.read(1 << 16).decode("utf-8", errors="replace")
    found: dict[str, Any] = {}
    for key, pattern in (
        ("versions", r'"summary":\s*\{\s*"versions":\s*(\d+)'),
        ("started_at", r'"started_at":\s*"([^"]+)"'),
        ("finished_at", r'"finished_at":\s*"([^"]+)"'),
    ):
        match = re.search(pattern, head)
        if match is None:
            raise ValueError(f"no {key} near the start of {path}")
        found[key] = int(match[1]) if key == "versions" else match[1]
    return found


def versions_in_report(path: Path) -> int:
    """How many versions a report.json says were read (``summary.versions``)."""
    return int(report_head(path)["versions"])


def scan_seconds(path: Path) -> float:
    """From the scan's start (after interpreter start and pack loading) to the end of the
    crawl and evaluation: ``finished_at - started_at`` of a report.json."""
    head = report_head(path)
    started = datetime.fromisoformat(head["started_at"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(head["finished_at"].replace("Z", "+00:00"))
    return (finished - started).total_seconds()


def throttles(counters: dict[str, Any]) -> int:
    return sum(counters.get("throttled", {}).values())


def machine() -> str:
    """One line on what the numbers were measured on."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load unknown"
    return (
        f"{os.cpu_count()} cores, {model}; Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}; {load}"
    )


def verdict(value: float, target: float, unit: str, *, fmt: str = "{:.2f}") -> str:
    """``1.04x (target <= 1.10x) OK``: a figure beside its target."""
    met = "OK" if value <= target else "MISSED"
    return f"{fmt.format(value)}{unit} (target <= {fmt.format(target)}{unit}) {met}"


class Table:
    """Rows of text under a header, printed with aligned columns."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = list(header)
        self.rows: list[list[str]] = []

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def render(self) -> str:
        widths = [len(h) for h in self.header]
        for row in self.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [self.header, ["-" * w for w in widths], *self.rows]
        ]
        return "\n".join(lines)
