"""Evaluate 100,000 generated trained model versions with the shipped pack, on one core.

Compares the compiled engine with the naive alternative: each policy translated by hand to a
JSON Schema and validated with ``jsonschema`` per policy per document (on a subset, it is
slow). All 17 shipped policies are translated (``where`` becomes ``if``/``then``, so a skip
counts as a pass); ``--naive-count`` sizes the subset.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from jsonschema import Draft202012Validator

from auditor.models import ModelVersion, Resource
from auditor.policy import default_pack_path, load_packs
from bench.fleet import fleet

CHARS = r"^[\w\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.:/=+\-@]*$"
KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$"


def _at(path: list[str], schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    for key in reversed(path):
        schema = {
            "type": "object",
            "properties": {key: schema},
            **({"required": [key]} if required else {}),
        }
    return schema


def _active(then: dict[str, Any]) -> dict[str, Any]:
    return {
        "if": {"properties": {"status": {"const": "ACTIVE"}}, "required": ["status"]},
        "then": then,
    }


def naive_schemas(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each shipped policy as one JSON Schema a document must satisfy."""
    return {
        "kms-key-present": _at(["kmsKeyArn"], {"type": "string", "minLength": 1}),
        "required-tags": _at(["tags"], {"type": "object", "required": params["required_tags"]}),
        "allowed-instance-types": _at(
            ["resourceConfig", "instanceType"], {"enum": params["allowed_instance_types"]}
        ),
        "max-training-runtime": _at(
            ["stoppingCondition", "maxRuntimeInSeconds"],
            {"type": "number", "maximum": params["max_runtime_seconds"]},
        ),
        "no-reserved-tag-prefix": _at(
            ["tags"], {"propertyNames": {"not": {"pattern": "(?i)^aws:"}}}, required=False
        ),
        "tag-count-limit": _at(["tags"], {"maxProperties": 50}, required=False),
        "tag-length-limits": _at(
            ["tags"],
            {
                "propertyNames": {"minLength": 1, "maxLength": 128},
                "additionalProperties": {"maxLength": 256},
            },
            required=False,
        ),
        "tag-allowed-characters": _at(
            ["tags"],
            {"propertyNames": {"pattern": CHARS}, "additionalProperties": {"pattern": CHARS}},
            required=False,
        ),
        "kms-key-arn-well-formed": _at(["kmsKeyArn"], {"pattern": KEY_ARN}, required=False),
        "no-reserved-environment-prefix": _at(
            ["environment"],
            {"propertyNames": {"not": {"pattern": "(?i)^(aws_|sm_|sagemaker_)"}}},
            required=False,
        ),
        "no-reserved-hyperparameter-prefix": _at(
            ["hyperparameters"],
            {"propertyNames": {"not": {"pattern": "(?i)^(aws:|sagemaker_)"}}},
            required=False,
        ),
        "training-image-pinned": _active(
            _at(
                ["trainingContainerImageDigest"],
                {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            )
        ),
        "training-logs-published": _active(_at(["logsStatus"], {"const": "PUBLISH_SUCCEEDED"})),
        "training-metrics-published": _active(
            _at(["metricsStatus"], {"const": "PUBLISH_SUCCEEDED"}, required=False)
        ),
        "max-instance-count": _at(
            ["resourceConfig", "instanceCount"],
            {"type": "number", "maximum": params["max_instance_count"]},
            required=False,
        ),
        "max-volume-size": _at(
            ["resourceConfig", "volumeSizeInGB"],
            {"type": "number", "maximum": params["max_volume_size_gb"]},
        ),
        "not-left-failed": _at(["status"], {"type": "string", "not": {"pattern": "_FAILED$"}}),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--naive-count", type=int, default=5_000)
    args = parser.parse_args(argv)

    policy_set = load_packs([default_pack_path()])
    started = time.perf_counter()
    documents = fleet(args.count)
    versions = [
        ModelVersion(
            Resource(arn=doc["trainedModelArn"], version_identifier=doc["versionIdentifier"]), doc
        )
        for doc in documents
    ]
    generated = time.perf_counter() - started

    started = time.perf_counter()
    verdicts = [policy_set.evaluate(version) for version in versions]
    engine_seconds = time.perf_counter() - started
    failures = sum(len(verdict.failures) for verdict in verdicts)
    clean = sum(1 for verdict in verdicts if not verdict.failures)
    engine_rate = len(versions) / engine_seconds

    schemas = naive_schemas(dict(policy_set.params))
    validators = [Draft202012Validator(schemas[info.id]) for info in policy_set.infos]
    subset = documents[: args.naive_count]
    started = time.perf_counter()
    naive_fails: list[list[bool]] = []
    for doc in subset:
        row = []
        for validator in validators:
            valid = validator.is_valid(doc)
            if not valid:
                list(validator.iter_errors(doc))  # evidence, as the engine gives for failures
            row.append(not valid)
        naive_fails.append(row)
    naive_seconds = time.perf_counter() - started
    naive_rate = len(subset) / naive_seconds

    agree = sum(
        1
        for verdict, row in zip(verdicts, naive_fails, strict=False)
        if [code == 1 for code in verdict.statuses] == row
    )

    print(
        f"shipped pack: {len(policy_set.infos)} policies; {len(versions):,} generated versions in {generated:.1f}s"
    )
    print(f"  ({clean:,} fully compliant, {failures:,} failing results)")
    print(f"{'method':<44}{'versions':>10}{'seconds':>10}{'versions/s':>14}")
    print(
        f"{'compiled engine (auditor.policy)':<44}{len(versions):>10,}{engine_seconds:>10.2f}{engine_rate:>14,.0f}"
    )
    print(
        f"{'naive: jsonschema per policy per document':<44}{len(subset):>10,}{naive_seconds:>10.2f}{naive_rate:>14,.0f}"
    )
    print(f"speed-up: {engine_rate / naive_rate:.1f}x on one core (single process)")
    print(f"verdicts agree on {agree:,} of {len(subset):,} subset documents (pass/skip vs fail)")


if __name__ == "__main__":
    main()
