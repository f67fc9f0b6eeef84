"""The `auditor` command's entry point, kept light: SIGINT and SIGTERM are handled before the
scanner is imported, so an interruption at any moment (even during start-up) ends the run
with exit 3 and one line, never a traceback."""

from __future__ import annotations

import signal
import sys
from types import FrameType

EXIT_INCOMPLETE = 3  # auditor.cli's, restated: the CLI is not imported yet when it is needed


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> int:
    """Run the CLI; an interruption before it takes over is exit 3."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup`, `cmd &`: stays ignored
            signal.signal(signum, _interrupt)
    try:
        from auditor import prefork

        prefork.start_early(sys.argv[1:])  # workers' imports beside the CLI's own
        from auditor.cli import main as cli_main

        code = cli_main()
    except KeyboardInterrupt as exc:
        name = exc.args[0] if exc.args else "SIGINT"
        try:
            sys.stderr.write(f"auditor: interrupted by {name} while starting; nothing scanned\n")
            sys.stderr.flush()
        except OSError:
            pass
        code = EXIT_INCOMPLETE
    # The run is over and its exit code decided: a late signal changes nothing.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    return code
