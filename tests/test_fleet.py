from __future__ import annotations

from pathlib import Path

from auditor.fleet import (
    COLLABORATION_CONTROLS,
    COLLABORATION_TRUSTED_CREATOR_ID,
    MISSION_CONTROLS,
    OTHER_MEMBER_ACCOUNTS,
    generate_fleet,
    load_fleet,
)


def test_generation_is_deterministic_for_a_seed() -> None:
    assert generate_fleet(seed=3).to_json() == generate_fleet(seed=3).to_json()
    assert generate_fleet(seed=3).to_json() != generate_fleet(seed=4).to_json()


def test_share_of_noncompliant_versions_follows_the_knob() -> None:
    fleet = generate_fleet(seed=1, models=400, versions_per_model=(1, 1), noncompliant_share=0.25)
    bad = sum(1 for v in fleet.versions() if v.violations)
    assert 60 < bad < 140
    assert {c for v in fleet.versions() for c in v.violations} == set(MISSION_CONTROLS)


def test_violations_are_visible_in_the_document() -> None:
    fleet = generate_fleet(seed=5, models=200, noncompliant_share=1.0)
    for version in fleet.versions():
        doc = version.document
        if "kms-key-present" in version.violations:
            assert "kmsKeyArn" not in doc
        if "no-reserved-tag-prefix" in version.violations:
            assert any(k.lower().startswith("aws:") for k in doc["tags"])
        if "max-training-runtime" in version.violations:
            assert doc["stoppingCondition"]["maxRuntimeInSeconds"] > 86_400


def test_fleet_round_trips_through_its_file(tmp_path: Path) -> None:
    fleet = generate_fleet(seed=2, models=10)
    path = tmp_path / "fleet.json"
    path.write_text(fleet.to_json())
    assert load_fleet(path) == fleet


def test_shipped_pack_fails_exactly_the_injected_violations() -> None:
    from auditor.policy import default_pack_path, load_packs

    policy_set = load_packs([default_pack_path()])
    fleet = generate_fleet(seed=11, models=300, noncompliant_share=0.5)
    for version in fleet.versions():
        verdict = policy_set.evaluate_document(version.document)
        assert {r.policy_id for r in verdict.failures} == set(version.violations)


def test_collaboration_models_round_trip_and_leave_the_rest_of_the_fleet_alone(
    tmp_path: Path,
) -> None:
    plain = generate_fleet(seed=2, memberships=3, models=10)
    with_others = generate_fleet(seed=2, memberships=3, models=10, collaboration_models=12)
    assert with_others.memberships == plain.memberships
    assert with_others.models == plain.models
    assert len(with_others.collaboration_models) == 12
    path = tmp_path / "fleet.json"
    path.write_text(with_others.to_json())
    assert load_fleet(path) == with_others
    creators = {m.creator_account for m in with_others.collaboration_models}
    assert creators == set(OTHER_MEMBER_ACCOUNTS)
    own = {m.account for m in with_others.memberships}
    assert not creators & own
    collaborations = {m.collaboration_id for m in with_others.memberships}
    assert {m.collaboration_id for m in with_others.collaboration_models} == collaborations


def test_shipped_pack_fails_exactly_the_injected_collaboration_violations() -> None:
    from auditor.documents import COLLABORATION_OPERATION, check_document
    from auditor.models import ModelVersion, Resource, ResourceType
    from auditor.policy import default_pack_path, load_packs

    policy_set = load_packs([default_pack_path()]).with_resource_types(frozenset(ResourceType))
    fleet = generate_fleet(seed=11, memberships=4, models=4, collaboration_models=120)
    violated = set()
    for model in fleet.collaboration_models:
        for version in model.versions:
            assert check_document(version.document, COLLABORATION_OPERATION).conforms
            resource = Resource(
                arn=model.arn,
                version_identifier=version.version_identifier,
                type=ResourceType.COLLABORATION_TRAINED_MODEL,
            )
            verdict = policy_set.evaluate(
                ModelVersion(resource=resource, document=version.document)
            )
            assert {r.policy_id for r in verdict.failures} == set(version.violations)
            violated |= set(version.violations)
    assert violated == {*COLLABORATION_CONTROLS, COLLABORATION_TRUSTED_CREATOR_ID}
