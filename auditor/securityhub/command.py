"""``auditor publish security-hub``: the SDK's session and region, then ``publish_report``."""

from __future__ import annotations

from dataclasses import dataclass

import aioboto3
import anyio
from botocore.exceptions import ProfileNotFound

from auditor.errors import UsageError
from auditor.models import Report
from auditor.securityhub.api import configured_region, open_security_hub
from auditor.securityhub.publish import (
    PublishOutcome,
    describe,
    publish_report,
    regions_read,
    targets_in,
)


@dataclass(frozen=True, slots=True)
class Publication:
    """A finished publication and its account, for the CLI to print."""

    outcome: PublishOutcome
    lines: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.outcome.complete


def publish_to_security_hub(
    report: Report, *, region: str | None, profile: str | None
) -> Publication:
    """Publish ``report`` with the SDK's own configuration (profiles, credential chain,
    ``AWS_ENDPOINT_URL_SECURITYHUB``). Raises ``UsageError`` for an unknown profile, when no
    region is given or configured, or when the report read nothing in that region but did
    elsewhere."""
    try:
        session = aioboto3.Session(profile_name=profile)
    except ProfileNotFound as exc:
        raise UsageError(f"--profile: {exc}") from None
    chosen = configured_region(session, region)
    elsewhere = regions_read(report) - {chosen}
    if elsewhere and not targets_in(report, chosen):
        # most likely a misconfigured job: say so rather than publish nothing and exit 0
        raise UsageError(
            f"the report read nothing in region {chosen}; it covers "
            f"{', '.join(sorted(elsewhere))}: pass --region"
        )

    async def run() -> PublishOutcome:
        async with open_security_hub(session=session, region=chosen) as api:
            return await publish_report(report, api, region=chosen)

    outcome = anyio.run(run)
    return Publication(outcome=outcome, lines=tuple(describe(outcome)))
