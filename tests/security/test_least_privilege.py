"""The shipped IAM policy is read-only and exactly what the crawler needs: every call a scan
makes (every scope variant, with and without errors) maps to an action the policy allows, and
every action the policy allows is used by some variant."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from importlib import resources
from typing import Any

import botocore.session
import pytest

from auditor.crawler import CrawlScope
from auditor.emulator import EmulatorConfig, Fault, FaultKind
from auditor.fleet import Fleet, collaboration_fleet_models, generate_fleet
from auditor.policy.context import CONTEXT_ROOTS

from ..reliability.conftest import FAST, run_crawl

# What a scan calls without and with --collaboration-models: nothing else, ever ...
OWN_OPERATIONS = {
    "ListMemberships",
    "ListTrainedModels",
    "ListTrainedModelVersions",
    "GetTrainedModel",
}
COLLABORATION_OPERATIONS = {"ListCollaborationTrainedModels", "GetCollaborationTrainedModel"}
# ... and, only when an enabled policy reads a version's context, the related reads
CONTEXT_OPERATIONS = {
    "GetConfiguredModelAlgorithmAssociation",
    "GetConfiguredModelAlgorithm",
    "GetMLInputChannel",
    "ListTrainedModelInferenceJobs",
    "GetTrainedModelInferenceJob",
}

# botocore service name -> IAM service prefix
IAM_PREFIXES = {"cleanrooms": "cleanrooms", "cleanroomsml": "cleanrooms-ml"}


def shipped_policy() -> dict[str, Any]:
    text = resources.files("auditor").joinpath("iam/scanner-policy.json").read_text()
    policy: dict[str, Any] = json.loads(text)
    return policy


def allowed_actions(policy: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in policy["Statement"]:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def iam_actions_for(operation: str) -> set[str]:
    """The IAM action of each service whose API defines ``operation``."""
    session = botocore.session.get_session()
    found = set()
    for service, prefix in IAM_PREFIXES.items():
        if operation in session.get_service_model(service).operation_names:
            found.add(f"{prefix}:{operation}")
    assert found, f"{operation} is not a Clean Rooms or Clean Rooms ML operation"
    return found


def test_the_policy_is_read_only_allow_only_and_wildcard_free() -> None:
    policy = shipped_policy()
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}
    for action in allowed_actions(policy):
        prefix, _, name = action.partition(":")
        assert prefix in IAM_PREFIXES.values()
        assert "*" not in action
        assert name.startswith(("List", "Get")), action


def test_every_call_of_every_scan_variant_is_allowed_and_every_allowed_action_used(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    allowed = allowed_actions(shipped_policy())
    model = fleet.models[0]
    membership = fleet.memberships[1].id
    others = collaboration_fleet_models(random.Random(2), fleet.memberships, count=6)
    fleet = replace(fleet, collaboration_models=others)
    view = CrawlScope(collaboration_models=True)
    denied_collaboration = fleet.memberships[0].collaboration_id
    variants: list[tuple[EmulatorConfig, CrawlScope, Any]] = [
        (EmulatorConfig(page_cap=2), CrawlScope(), FAST),
        (EmulatorConfig(), CrawlScope(latest_only=True), FAST),
        (EmulatorConfig(), CrawlScope(memberships=(membership,)), FAST),
        (EmulatorConfig(), CrawlScope(model_arns=(model.arn,)), FAST),
        (EmulatorConfig(), CrawlScope(), replace(FAST, membership_statuses=())),
        (
            EmulatorConfig(
                deny_memberships=frozenset({membership}),
                vanish_models=frozenset({model.arn}),
                faults={"ListTrainedModelVersions": Fault(FaultKind.NOT_JSON, times=1)},
            ),
            CrawlScope(),
            FAST,
        ),
        (EmulatorConfig(page_cap=2), view, FAST),
        (EmulatorConfig(), replace(view, memberships=(membership,)), FAST),
        (
            EmulatorConfig(
                deny_collaborations=frozenset({denied_collaboration}),
                faults={"GetCollaborationTrainedModel": Fault(FaultKind.NOT_JSON, times=1)},
            ),
            view,
            FAST,
        ),
    ]
    # every context root on, over a fleet whose versions refer to related resources
    context_fleet = generate_fleet(seed=4, memberships=2, models=6, context=True)
    with_context = replace(FAST, context_roots=frozenset(CONTEXT_ROOTS))
    runs = [(fleet, *variant) for variant in variants]
    runs.append((context_fleet, EmulatorConfig(page_cap=1), CrawlScope(), with_context))
    runs.append(
        (
            context_fleet,
            EmulatorConfig(),
            CrawlScope(model_arns=(context_fleet.models[-1].arn,)),
            with_context,
        )
    )
    # both at once: the context of this account's versions and the collaboration view
    both_fleet = generate_fleet(
        seed=4, memberships=2, models=6, context=True, collaboration_models=4
    )
    runs.append((both_fleet, EmulatorConfig(page_cap=1), view, with_context))
    used: set[str] = set()
    for fleet_, emulator, scope, config in runs:
        outcome = run_crawl(aws_env, fleet_, emulator, config, scope)
        counters = outcome.counters
        assert counters["refused"] == {}, "the emulator refused an operation it does not serve"
        called = set(counters["operations"])
        expected = set(OWN_OPERATIONS)
        if scope.collaboration_models:
            expected |= COLLABORATION_OPERATIONS
        if config.context_roots:
            expected |= CONTEXT_OPERATIONS
        assert called <= expected, called - expected
        if scope.collaboration_models:
            assert called >= OWN_OPERATIONS | COLLABORATION_OPERATIONS, called
        if config.context_roots and not scope.model_arns:
            assert called >= CONTEXT_OPERATIONS, CONTEXT_OPERATIONS - called
        for operation in counters["operations"]:
            actions = iam_actions_for(operation)
            assert actions <= allowed, f"{scope}: {operation} needs {actions - allowed}"
            used |= actions
    assert used == allowed, f"the policy grants actions no scan uses: {allowed - used}"
