from __future__ import annotations

from auditor.entry import main

raise SystemExit(main())
