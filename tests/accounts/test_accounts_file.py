"""The accounts file: validated, every error naming the file and the entry."""

from __future__ import annotations

from datetime import UTC, datetime

import aioboto3
import pytest
from aiobotocore.credentials import AioRefreshableCredentials

from auditor.accounts import AccountTarget, parse_accounts, role_arn_for, session_with
from auditor.errors import UsageError


def test_defaults_apply_and_entries_override_them() -> None:
    targets = parse_accounts(
        """
defaults: {role_name: Audit, external_id: shared-secret, regions: [eu-west-1]}
accounts:
  - id: 012345678901
  - id: "111111111111"
    role_arn: arn:aws:iam::111111111111:role/team/Other
    external_id: own-secret
    regions: [us-east-1, us-west-2]
    name: payments
""",
        "accounts.yaml",
    )
    assert targets == (
        AccountTarget(
            "012345678901",
            "arn:aws:iam::012345678901:role/Audit",
            "shared-secret",
            ("eu-west-1",),
        ),
        AccountTarget(
            "111111111111",
            "arn:aws:iam::111111111111:role/team/Other",
            "own-secret",
            ("us-east-1", "us-west-2"),
            "payments",
        ),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accounts: []", "accounts"),
        ("accounts:\n  - id: '12345'\n    role_name: A", "accounts.0.id"),
        ("accounts:\n  - id: '123456789012'", "no role_arn or role_name"),
        (
            "accounts:\n  - {id: '123456789012', role_name: A, role_arn: 'arn:aws:iam::123456789012:role/A'}",
            "not both",
        ),
        (
            "accounts:\n  - {id: '123456789012', role_arn: 'arn:aws:iam::999999999999:role/A'}",
            "in account 999999999999",
        ),
        (
            "defaults: {role_name: A}\naccounts:\n  - id: '123456789012'\n  - id: '123456789012'",
            "twice",
        ),
        (
            "defaults: {role_name: A}\naccounts:\n  - {id: '123456789012', regions: [moon-1]}",
            "regions",
        ),
        ("defaults: {role_name: A}\naccounts:\n  - {id: '123456789012', colour: red}", "colour"),
        ("accounts: [", "invalid YAML"),
    ],
)
def test_invalid_files_are_usage_errors_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=r"accounts\.yaml") as caught:
        parse_accounts(text, "accounts.yaml")
    assert message in str(caught.value)


def test_role_names_and_arns() -> None:
    assert role_arn_for("123456789012", "Audit") == "arn:aws:iam::123456789012:role/Audit"
    assert (
        role_arn_for("123456789012", "/path/Audit/") == "arn:aws:iam::123456789012:role/path/Audit"
    )
    arn = "arn:aws-us-gov:iam::123456789012:role/Audit"
    assert role_arn_for("123456789012", arn) == arn
    assert (
        role_arn_for("123456789012", "Audit", "aws-cn") == "arn:aws-cn:iam::123456789012:role/Audit"
    )


async def test_an_account_session_signs_with_its_role_and_reuses_the_parsed_models() -> None:
    base = aioboto3.Session(
        aws_access_key_id="AKIABASE", aws_secret_access_key="base", region_name="eu-west-1"
    )
    assumed = AioRefreshableCredentials(
        access_key="ASIAROLE",
        secret_key="role",
        token="token",
        expiry_time=datetime(2099, 1, 1, tzinfo=UTC),
        refresh_using=lambda: None,
        method="assume-role",
    )
    account = session_with(base, assumed)
    frozen = await (await account.get_credentials()).get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("ASIAROLE", "token")
    assert account.region_name == "eu-west-1"
    # one loader, so the service models parsed for one account are not parsed again
    assert account._session.get_component("data_loader") is base._session.get_component(
        "data_loader"
    )
