"""Waivers: accepted exceptions from a YAML file, applied to a report's failures.

A waiver matches a failure when its policy glob matches the policy id, its resource glob the
model ARN and its version glob the version identifier (``fnmatch.fnmatchcase``: case-sensitive,
``*`` also crosses ``/`` and ``:``). From the day of ``expires`` on, a waiver applies to nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import jsonschema

from auditor.errors import InputFileError, PackError, WaiverFileError
from auditor.inputfiles import MIB, read_text
from auditor.models import PriorFailure, Report, Result, Waiver, WaiverUse
from auditor.policy.loader import load_yaml_bounded

MAX_WAIVERS_BYTES = 5 * MIB


@cache
def waivers_schema() -> dict[str, Any]:
    """The JSON Schema of a waivers file."""
    text = resources.files("auditor").joinpath("schemas/waivers.schema.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


def load_waivers(path: str | Path) -> tuple[Waiver, ...]:
    """Read and validate a waivers file.

    Raises ``WaiverFileError`` naming the file, and the waiver's index and field when one is
    invalid.
    """
    try:
        text = read_text(Path(path), "a waivers file", MAX_WAIVERS_BYTES)
    except InputFileError as exc:
        raise WaiverFileError(str(exc)) from exc
    return parse_waivers(text, str(path))


def parse_waivers(text: str, source: str) -> tuple[Waiver, ...]:
    """Waivers from the text of a waivers file; ``source`` names it in errors."""
    try:
        # Every scalar a string, so `expires: 2027-01-31` is checked as text and `version: 1`
        # is compared as text too; the pack bounds hold (nesting, alias expansion).
        document = load_yaml_bounded(text, source, strings_only=True)
    except PackError as exc:
        raise WaiverFileError(str(exc)) from exc
    if isinstance(document, dict) and document.get("version") == "1":
        document = {**document, "version": 1}
    validator = jsonschema.Draft202012Validator(waivers_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise WaiverFileError(f"{source}: {_where(error)}: {error.message}")
    waivers = []
    for index, item in enumerate(document["waivers"]):
        try:
            expires = date.fromisoformat(item["expires"])
        except ValueError as exc:
            raise WaiverFileError(
                f"{source}: waivers[{index}].expires: {item['expires']!r} is not a date"
            ) from exc
        waivers.append(
            Waiver(
                policy=item["policy"],
                resource=item["resource"],
                version=item.get("version", "*"),
                reason=item["reason"],
                expires=expires,
                approved_by=item["approved_by"],
                index=index,
            )
        )
    return tuple(waivers)


def _where(error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "waivers":
        where = f"waivers[{path[1]}]"
        if len(path) > 2:
            where += "." + ".".join(str(part) for part in path[2:])
        return where
    return ".".join(str(part) for part in path) or "(top level)"


def matches(waiver: Waiver, result: Result | PriorFailure) -> bool:
    """Whether ``waiver``'s globs cover ``result`` (expiry is not considered here)."""
    resource = result.resource
    return (
        fnmatchcase(result.policy_id, waiver.policy)
        and fnmatchcase(resource.arn, waiver.resource)
        and fnmatchcase(resource.version_identifier or "", waiver.version)
    )


def apply_waivers(report: Report, waivers: Sequence[Waiver], today: date) -> Report:
    """A copy of ``report`` whose unwaived failures carry the first live waiver that matches
    them, and whose ``waivers`` say how each waiver fared (matched count, expired)."""
    live = [waiver for waiver in waivers if today < waiver.expires]
    matched = dict.fromkeys(waivers, 0)
    verdicts = []
    for verdict in report.verdicts:
        changed = False
        failures = []
        for result in verdict.failures:
            if result.waiver is None:
                waiver = next((w for w in live if matches(w, result)), None)
                if waiver is not None:
                    matched[waiver] += 1
                    result = dataclasses.replace(result, waiver=waiver)
                    changed = True
            failures.append(result)
        verdicts.append(
            dataclasses.replace(verdict, failures=tuple(failures)) if changed else verdict
        )
    uses = tuple(
        WaiverUse(waiver=waiver, matched=matched[waiver], expired=today >= waiver.expires)
        for waiver in waivers
    )
    return dataclasses.replace(report, verdicts=tuple(verdicts), waivers=uses)
