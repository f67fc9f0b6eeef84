"""The publisher's IAM policy: exactly the two calls publish may make, shipped with the
package, and nothing of the scanner's read-only policy."""

from __future__ import annotations

import json
from importlib import resources

from auditor.securityhub.api import Operation


def _actions(name: str) -> set[str]:
    policy = json.loads(resources.files("auditor").joinpath(f"iam/{name}").read_text())
    assert policy["Version"] == "2012-10-17"
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement
        actions |= set(statement["Action"])
    return actions


def test_publisher_policy_allows_exactly_what_publish_calls() -> None:
    actions = _actions("publisher-policy.json")
    assert actions == {"securityhub:BatchImportFindings", "securityhub:GetFindings"}
    assert actions == {f"securityhub:{op.value}" for op in Operation}


def test_the_two_roles_share_no_action() -> None:
    assert not _actions("publisher-policy.json") & _actions("scanner-policy.json")
    assert all(not a.startswith("securityhub:") for a in _actions("scanner-policy.json"))
