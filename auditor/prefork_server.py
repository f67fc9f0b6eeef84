"""Imported by the workers' fork server only (the last module of ``auditor.prefork.PRELOAD``).

By then the server has imported the scanner; ``gc.freeze`` moves everything it holds to the
collector's permanent generation, as the CLI does after its own start-up. Every worker forked
from the server inherits that: its full collections never walk the SDK's hundreds of
thousands of imported objects, and it does not write to (and so copy) the pages holding them.

The server ignores SIGTERM, as it already ignores SIGINT: a service manager stopping the job
signals every process of it, and the scan alone decides how to stop (its workers finish what
they read and report the rest). A server that died would take with it the pipes through which
the scan learns how its workers ended, and the scan would count live workers as failed. The
server still ends with the scan: it exits when the scan's end of its "alive" pipe closes.
"""

from __future__ import annotations

import gc
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
gc.freeze()
