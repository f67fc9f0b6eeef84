"""Imported by the workers' fork server only (the last module of ``auditor.prefork.PRELOAD``).

By then the server has imported the scanner; ``gc.freeze`` moves everything it holds to the
collector's permanent generation, as the CLI does after its own start-up. Every worker forked
from the server inherits that: its full collections never walk the SDK's hundreds of
thousands of imported objects, and it does not write to (and so copy) the pages holding them.
"""

from __future__ import annotations

import gc

gc.freeze()
