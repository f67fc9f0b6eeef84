"""The policy engine: declarative packs, validated once, compiled to pure evaluators.

Public API::

    load_packs(paths, overrides) -> PolicySet        # raises PackError for any bad pack
    load_pack_document(dict, source=, overrides=) -> PolicySet
    parse_param_override("NAME=VALUE") -> (name, value)
    default_pack_path() -> Path                      # the shipped baseline pack
    PolicySet.evaluate(ModelVersion) -> VersionVerdict
    CompiledPolicy.judge(dict) -> (Status, evidence)  # the one evaluator of where/check
    Condition.truth(dict) -> Truth                   # TRUE, FALSE or UNKNOWN (fails closed)
    PolicySet.evaluate_document(dict) -> VersionVerdict
    run_examples(PolicySet) -> [ExampleOutcome | MissingExamples]
    list_policies(PolicySet) -> [PolicyRow]
    pack_schema() -> dict                            # assembled from the condition registry
"""

from __future__ import annotations

from auditor.policy import combinators, leaves, schema_condition
from auditor.policy.loader import (
    context_pack_path,
    default_pack_path,
    load_pack_document,
    load_packs,
    parse_param_override,
)
from auditor.policy.policyset import CompiledPolicy, PolicySet
from auditor.policy.registry import REGISTRY, Condition
from auditor.policy.schema import pack_schema, pack_schema_text
from auditor.policy.tooling import (
    ExampleOutcome,
    MissingExamples,
    PolicyRow,
    list_policies,
    run_examples,
)
from auditor.policy.truth import Truth

__all__ = [
    "REGISTRY",
    "CompiledPolicy",
    "Condition",
    "ExampleOutcome",
    "MissingExamples",
    "PolicyRow",
    "PolicySet",
    "Truth",
    "combinators",
    "context_pack_path",
    "default_pack_path",
    "leaves",
    "list_policies",
    "load_pack_document",
    "load_packs",
    "pack_schema",
    "pack_schema_text",
    "parse_param_override",
    "run_examples",
    "schema_condition",
]
