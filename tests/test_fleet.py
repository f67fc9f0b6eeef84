from __future__ import annotations

from pathlib import Path

from auditor.fleet import MISSION_CONTROLS, generate_fleet, load_fleet


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
