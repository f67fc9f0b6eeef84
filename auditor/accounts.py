"""Which accounts to scan and how to get into each: an accounts file, or AWS Organizations.

Every account is entered by assuming a role from the caller's own credentials (the SDK's
credential chain, ``--profile``). The assumed credentials are botocore's own refreshable
credentials over an ``AssumeRole`` fetcher, so the SDK renews them before they expire during
a long scan (15 minutes before, or 10 minutes before at the latest, as botocore does for every
assumed role); nothing here tracks expiry.

Where STS and Organizations live is the SDK's configuration too (``AWS_ENDPOINT_URL_STS``,
``AWS_ENDPOINT_URL_ORGANIZATIONS``, profile ``services`` sections), which is how the tests
point them at moto's server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aioboto3
import jsonschema
from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentialResolver,
    AioDeferredRefreshableCredentials,
    AioRefreshableCredentials,
)
from aiobotocore.session import AioSession
from botocore.credentials import CredentialProvider
from botocore.exceptions import BotoCoreError, ClientError

from auditor.errors import InputFileError, PackError, UsageError
from auditor.inputfiles import MIB, read_text
from auditor.policy.loader import load_yaml_bounded

MAX_ACCOUNTS_BYTES = 5 * MIB

log = logging.getLogger(__name__)

ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/.+$")
DEFAULT_SESSION_NAME = "auditor"
DEFAULT_ROLE_DURATION = 3600  # seconds; botocore renews 15 minutes before expiry
GLOBAL_REGION = "us-east-1"  # where STS and Organizations are asked when no region is set

_ROLE_FIELDS: dict[str, Any] = {
    "role_arn": {"type": "string", "pattern": ROLE_ARN.pattern},
    "role_name": {"type": "string", "pattern": r"^[\w+=,.@/-]{1,512}$"},
    "external_id": {"type": "string", "minLength": 2, "maxLength": 1224},
    "regions": {
        "type": "array",
        "items": {"type": "string", "pattern": r"^(all|[a-z]{2}(-[a-z]+)+-\d+)$"},
        "minItems": 1,
    },
}

ACCOUNTS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "auditor accounts file",
    "type": "object",
    "required": ["accounts"],
    "additionalProperties": False,
    "properties": {
        "defaults": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                k: v
                for k, v in _ROLE_FIELDS.items()
                if k in ("role_name", "external_id", "regions")
            },
        },
        "accounts": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": ACCOUNT_ID.pattern},
                    "name": {"type": "string"},
                    **_ROLE_FIELDS,
                },
                "not": {"required": ["role_arn", "role_name"]},
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class AccountTarget:
    """One account to scan: the role to assume there (None: the caller's own credentials),
    its external id, and its own regions (empty: the scan's)."""

    account_id: str
    role_arn: str | None = None
    external_id: str | None = None
    regions: tuple[str, ...] = ()
    name: str | None = None


def role_arn_for(account_id: str, role: str, partition: str = "aws") -> str:
    """``role`` as an ARN in ``account_id``: a name (with an optional path) or an ARN already."""
    if role.startswith("arn:"):
        return role
    return f"arn:{partition}:iam::{account_id}:role/{role.strip('/')}"


def load_accounts_file(path: str | Path) -> tuple[AccountTarget, ...]:
    """Read and validate an accounts file; raises ``UsageError`` naming the file and entry."""
    try:
        text = read_text(Path(path), "an accounts file", MAX_ACCOUNTS_BYTES)
    except InputFileError as exc:
        raise UsageError(str(exc)) from exc
    return parse_accounts(text, str(path))


def parse_accounts(text: str, source: str) -> tuple[AccountTarget, ...]:
    """Targets from the text of an accounts file (YAML; every scalar read as a string, so
    ``id: 012345678901`` keeps its leading zero)::

        defaults: {role_name: AuditorReadOnly, external_id: ..., regions: [eu-west-1]}
        accounts:
          - id: "111111111111"
          - {id: "222222222222", role_arn: "arn:aws:iam::222222222222:role/Other"}
    """
    try:
        document = load_yaml_bounded(text, source, strings_only=True)
    except PackError as exc:
        raise UsageError(str(exc)) from exc
    validator = jsonschema.Draft202012Validator(ACCOUNTS_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        message = error.message
        if error.validator == "not":
            message = "give role_arn or role_name, not both"
        raise UsageError(f"{source}: {where}: {message}")
    defaults = document.get("defaults", {})
    targets: dict[str, AccountTarget] = {}
    for index, item in enumerate(document["accounts"]):
        account_id = item["id"]
        if account_id in targets:
            raise UsageError(f"{source}: accounts.{index}: account {account_id} listed twice")
        role = item.get("role_arn") or item.get("role_name") or defaults.get("role_name")
        if role is None:
            raise UsageError(
                f"{source}: accounts.{index}: no role_arn or role_name (and no defaults.role_name)"
            )
        role_arn = role_arn_for(account_id, role)
        match = ROLE_ARN.match(role_arn)
        if match is not None and match.group(1) != account_id:
            raise UsageError(
                f"{source}: accounts.{index}: role_arn is in account {match.group(1)}, "
                f"not {account_id}"
            )
        targets[account_id] = AccountTarget(
            account_id=account_id,
            role_arn=role_arn,
            external_id=item.get("external_id", defaults.get("external_id")),
            regions=tuple(item.get("regions", defaults.get("regions", ()))),
            name=item.get("name"),
        )
    return tuple(targets.values())


async def list_org_accounts(
    session: aioboto3.Session, role_name: str, *, external_id: str | None = None
) -> tuple[AccountTarget, ...]:
    """Every ACTIVE account of the caller's organization, each entered through ``role_name``
    except the caller's own, which is read with the caller's credentials (a role such as
    OrganizationAccountAccessRole exists in member accounts, not in the management account).

    The caller must be the management account or a delegated administrator. Raises
    ``UsageError`` when Organizations refuses (nothing can be scanned then).
    """
    targets: list[AccountTarget] = []
    region = session.region_name or GLOBAL_REGION
    own = await caller_account(session)
    try:
        async with session.client("organizations", region_name=region) as organizations:
            paginator = organizations.get_paginator("list_accounts")
            async for page in paginator.paginate():
                for account in page.get("Accounts", ()):
                    # "Status" is being replaced by "State"; either says ACTIVE
                    state = account.get("State") or account.get("Status")
                    if state != "ACTIVE":
                        continue
                    partition = str(account.get("Arn", "arn:aws")).split(":")[1] or "aws"
                    mine = account["Id"] == own
                    targets.append(
                        AccountTarget(
                            account_id=account["Id"],
                            role_arn=None
                            if mine
                            else role_arn_for(account["Id"], role_name, partition),
                            external_id=None if mine else external_id,
                            name=account.get("Name"),
                        )
                    )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UsageError(
            f"--org: Organizations ListAccounts failed: {error.get('Code')}: "
            f"{error.get('Message')} (run as the management account or a delegated admin)"
        ) from exc
    except BotoCoreError as exc:
        raise UsageError(f"--org: Organizations ListAccounts failed: {exc}") from exc
    return tuple(sorted(targets, key=lambda t: t.account_id))


async def caller_account(session: aioboto3.Session) -> str | None:
    """The caller's own account (``sts:GetCallerIdentity``), None when STS does not say."""
    try:
        async with session.client("sts", region_name=session.region_name or GLOBAL_REGION) as sts:
            identity = await sts.get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        log.warning("sts:GetCallerIdentity failed (%s); assuming the role in every account", exc)
        return None
    account = identity.get("Account")
    return account if isinstance(account, str) else None


class _Provider(CredentialProvider):  # type: ignore[misc]
    """A credential chain of one link: the assumed role's refreshable credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "AssumeRole"

    def __init__(self, credentials: AioRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    async def load(self) -> AioRefreshableCredentials:
        return self._credentials


def assume_role_credentials(
    base: aioboto3.Session,
    source: Any,
    target: AccountTarget,
    *,
    session_name: str = DEFAULT_SESSION_NAME,
    duration: int = DEFAULT_ROLE_DURATION,
) -> AioRefreshableCredentials:
    """Refreshable credentials of ``target``'s role, assumed with ``source`` (the base
    session's credentials) on first use and again by botocore before each expiry."""
    assert target.role_arn is not None
    extra: dict[str, Any] = {"RoleSessionName": session_name, "DurationSeconds": duration}
    if target.external_id:
        extra["ExternalId"] = target.external_id
    region = base.region_name or GLOBAL_REGION

    def client_creator(service_name: str, **kwargs: Any) -> Any:
        return base.client(service_name, region_name=region, **kwargs)

    fetcher = AioAssumeRoleCredentialFetcher(
        client_creator=client_creator,
        source_credentials=source,
        role_arn=target.role_arn,
        extra_args=extra,
    )
    credentials: AioRefreshableCredentials = AioDeferredRefreshableCredentials(
        refresh_using=fetcher.fetch_credentials, method="assume-role"
    )
    return credentials


def session_with(
    base: aioboto3.Session, credentials: AioRefreshableCredentials
) -> aioboto3.Session:
    """A session like ``base`` (same profile configuration and region) signing with
    ``credentials``."""
    botocore_session = AioSession(
        profile=base.profile_name if base.profile_name != "default" else None
    )
    botocore_session.register_component(
        "credential_provider", AioCredentialResolver(providers=[_Provider(credentials)])
    )
    # The service models, endpoint rules and partitions the base session has parsed already:
    # a fresh loader reads them again, about 65 ms of CPU for every account of a scan.
    base_botocore = getattr(base, "_session", None)
    if base_botocore is not None:
        botocore_session.register_component(
            "data_loader", base_botocore.get_component("data_loader")
        )
    return aioboto3.Session(botocore_session=botocore_session, region_name=base.region_name)


def account_regions(target: AccountTarget, default: Sequence[str]) -> tuple[str, ...]:
    return target.regions or tuple(default)
