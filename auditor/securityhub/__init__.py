"""AWS Security Hub: publishing a report's findings (``auditor publish security-hub``).

``api`` is the seam (the two calls publishing may make, over aioboto3); ``publish`` plans
and sends. The findings themselves are built by ``auditor.reports.asff``, the same code that
writes report.asff.json.
"""
