from __future__ import annotations

from auditor.emulator.command import main

raise SystemExit(main())
