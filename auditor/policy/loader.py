"""Loading policy packs: read, validate once against the pack schema, resolve params, compile.

Everything that can be wrong with a pack is found here, before any document is evaluated,
and raised as a ``PackError`` naming the file, the line (YAML only), the policy id and the
JSON path of the mistake.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from auditor.errors import InputFileError, PackError
from auditor.inputfiles import describe, read_bytes
from auditor.models import PackRef, PolicyInfo, ResourceType, Severity, Status
from auditor.policy.policyset import CompiledPolicy, PolicySet
from auditor.policy.registry import STRUCTURAL_KEYS, CompileContext, compile_condition, leaf_ops
from auditor.policy.schema import pack_validator
from auditor.policy.values import article, json_type, show

PACK_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_PACK = "cleanrooms-ml-baseline.yaml"
CONTEXT_PACK = "cleanrooms-ml-context.yaml"

_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_LAST_SEGMENT = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])$")


def default_pack_path() -> Path:
    """The shipped pack, ``cleanrooms-ml-baseline.yaml``, inside the installed package."""
    return Path(str(files("auditor") / "packs" / DEFAULT_PACK))


def context_pack_path() -> Path:
    """The shipped context pack, ``cleanrooms-ml-context.yaml`` (opt-in: its policies read
    related resources, which cost calls and IAM actions a baseline scan does not need)."""
    return Path(str(files("auditor") / "packs" / CONTEXT_PACK))


# -- JSON paths and line numbers --------------------------------------------------------------


def json_path(parts: Sequence[str | int]) -> str:
    """``$.policies[2].check.all[0].op`` from ``["policies", 2, "check", "all", 0, "op"]``."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _SIMPLE_KEY.match(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _parent(path: str) -> str | None:
    parent = _LAST_SEGMENT.sub("", path, count=1)
    return parent if parent != path else None


@dataclass(frozen=True, slots=True)
class _LineMap:
    """The line of each JSON path in a YAML pack (the line of the key, or of the list item)."""

    lines: Mapping[str, int]

    def line_of(self, path: str) -> int | None:
        current: str | None = path
        while current is not None:
            if current in self.lines:
                return self.lines[current]
            current = _parent(current)
        return None


# libyaml's parser when PyYAML was built with it: a tenth of a second off every start
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _PackLoader(_SafeLoader):
    """``yaml.SafeLoader`` without implicit timestamps: documents see ISO strings, as from AWS."""


_PackLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


try:
    from yaml import CBaseLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import BaseLoader as _BaseLoader  # type: ignore[assignment]


class _StringsLoader(_BaseLoader):
    """YAML with every scalar a string (waivers and accounts files)."""


# Packs are small, shallow documents. These bounds turn hostile files (a "billion laughs" of
# nested aliases, a recursive alias, 100 000 nested brackets, a huge file) into a PackError
# instead of a hang, a RecursionError or exhausted memory.
MAX_PACK_BYTES = 5 * 1024 * 1024
MAX_NESTING = 64
MAX_NODES = 200_000


def _too_big(source: str, line: int | None = None) -> PackError:
    return PackError(
        f"document too large once YAML aliases are expanded (over {MAX_NODES} values)",
        path=source,
        line=line,
    )


def _too_deep(source: str, line: int | None = None) -> PackError:
    return PackError(
        f"nested more than {MAX_NESTING} levels deep (or a recursive YAML alias)",
        path=source,
        line=line,
    )


def _map_lines(
    node: yaml.Node,
    path: list[str | int],
    lines: dict[str, int],
    source: str,
    budget: list[int] | None = None,
    policy_id: str | None = None,
) -> None:
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _too_big(source, node.start_mark.line + 1)
    if len(path) > MAX_NESTING:
        raise _too_deep(source, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or not isinstance(key, str):
                continue
            child = [*path, key]
            if key in seen:
                raise PackError(
                    f"duplicate key {key!r}",
                    path=source,
                    line=key_node.start_mark.line + 1,
                    policy_id=policy_id,
                    json_path=json_path(child),
                )
            seen.add(key)
            lines[json_path(child)] = key_node.start_mark.line + 1
            _map_lines(value_node, child, lines, source, budget, policy_id)
    elif isinstance(node, yaml.SequenceNode):
        in_policies = path == ["policies"]
        for index, item in enumerate(node.value):
            child = [*path, index]
            lines[json_path(child)] = item.start_mark.line + 1
            item_policy = _scalar_value(item, "id") if in_policies else policy_id
            _map_lines(item, child, lines, source, budget, item_policy)


def _scalar_value(node: yaml.Node, key: str) -> str | None:
    """The plain string under ``key`` of a mapping node (a policy's id), if there is one."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key and isinstance(value_node, yaml.ScalarNode):
                return str(value_node.value)
    return None


def _compose(text: str) -> yaml.Node | None:
    loader = _PackLoader(text)  # reads the stream: may already raise (a control character)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def _line_map(node: yaml.Node | None, source: str) -> _LineMap:
    """Every JSON path's line; raises ``PackError`` on a duplicate key or a hostile size."""
    lines: dict[str, int] = {}
    if node is not None:
        lines["$"] = node.start_mark.line + 1
        _map_lines(node, [], lines, source)
    return _LineMap(lines)


def load_yaml_bounded(text: str, source: str, *, strings_only: bool = False) -> Any:
    """YAML text as data, within the pack bounds (nesting, alias expansion, duplicate keys):
    the one reader of YAML files (packs, waivers, accounts). ``strings_only`` keeps every
    scalar a string (YAML 1.1's ``yes``/``012``/dates stay as written). Raises ``PackError``.
    """
    data, _ = _parse_yaml(text, source, _StringsLoader if strings_only else _PackLoader)
    return data


def _parse_yaml(
    text: str, source: str, loader_class: type[_SafeLoader] | type[_BaseLoader] | None = None
) -> tuple[Any, _LineMap]:
    loader: _SafeLoader | _BaseLoader | None = None
    try:
        loader = (loader_class or _PackLoader)(
            text
        )  # reads the stream: may already raise (a control character)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        if "nesting depth" in problem:  # libyaml's own bound, deeper than ours
            raise _too_deep(source, line) from exc
        raise PackError(f"invalid YAML: {problem}", path=source, line=line) from exc
    except RecursionError as exc:
        raise _too_deep(source) from exc
    finally:
        if loader is not None:
            loader.dispose()
    return data, _line_map(node, source)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _parse_json(text: str, source: str) -> tuple[Any, _LineMap]:
    """A JSON pack: the data is ``json.loads``'s. Valid JSON is also YAML (no aliases outside
    strings), so YAML's composer gives the lines for messages, and places a duplicate key,
    which ``json.loads`` would take silently (the last wins)."""
    duplicate: _DuplicateKey | None = None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise PackError(f"invalid JSON: {exc.msg}", path=source, line=exc.lineno) from exc
    except RecursionError as exc:
        raise _too_deep(source) from exc
    except _DuplicateKey as exc:
        duplicate, data = exc, None
    try:
        lines = _line_map(_compose(text), source)
    except (yaml.YAMLError, RecursionError, ValueError):
        lines = _LineMap({})  # JSON that YAML reads differently: no lines, nothing else lost
    if duplicate is not None:  # YAML did not place it: say what we know
        raise PackError(f"duplicate key {duplicate.key!r}", path=source)
    return data, lines


def _check_json_compatible(value: Any, path: list[str | int], source: str, lines: _LineMap) -> None:
    """Refuse what YAML can express but a JSON document cannot (non-string keys, sets, bytes),
    and anything nested deeper than ``MAX_NESTING``."""
    if len(path) > MAX_NESTING:
        raise _too_deep(source, lines.line_of(json_path(path[:MAX_NESTING])))
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                where = json_path(path)
                raise PackError(
                    f"object keys must be strings; {key!r} is {article(type(key).__name__)} "
                    "(quote it)",
                    path=source,
                    line=lines.line_of(where),
                    json_path=where,
                )
            _check_json_compatible(item, [*path, key], source, lines)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_compatible(item, [*path, index], source, lines)
    elif not (value is None or isinstance(value, str | int | float | bool)):
        where = json_path(path)
        raise PackError(
            f"{type(value).__name__} values are not JSON; use a string, number, boolean, "
            "list or object",
            path=source,
            line=lines.line_of(where),
            json_path=where,
        )


# -- schema errors in plain language ----------------------------------------------------------


def _plain(error: ValidationError) -> tuple[str, list[str | int]]:
    """A reviewer-readable message for one schema error, and the path it is about."""
    where: list[str | int] = list(error.absolute_path)
    instance = error.instance
    last = where[-1] if where else None
    validator = error.validator
    schema: Any = error.schema
    validator_value: Any = error.validator_value
    if validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = list(schema.get("properties", {}))
        extras = [key for key in instance if key not in allowed]
        noun = "key" if len(extras) == 1 else "keys"
        named = ", ".join(repr(key) for key in extras)
        if extras:
            where.append(extras[0])
        return f"unexpected {noun} {named} (allowed here: {', '.join(allowed)})", where
    if validator == "required" and isinstance(instance, Mapping):
        absent = [key for key in validator_value if key not in instance]
        return f"missing required key {absent[0]!r}", where
    if validator == "enum" and last == "op":
        return f"unknown op {show(instance)}; valid ops: {', '.join(leaf_ops())}", where
    if validator == "enum":
        options = ", ".join(str(option) for option in validator_value)
        return f"{show(instance)} is not one of: {options}", where
    if validator == "const" and last == "version":
        return f"unsupported pack version {show(instance)}; this auditor reads version 1", where
    if validator == "const":
        return f"{show(instance)} must be {show(validator_value)}", where
    if validator == "type":
        wanted = validator_value
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        expected = " or ".join(article(name) for name in names)
        message = f"expected {expected}, got {article(json_type(instance))} ({show(instance)})"
        if isinstance(instance, bool) and "string" in names:
            message += " (YAML reads yes/no/on/off/true/false as booleans: quote it)"
        return message, where
    if validator == "pattern" and last == "id":
        return (
            f"id {show(instance)} must be lower-case letters, digits, dots and dashes, "
            f"starting with a letter or digit ({validator_value})",
            where,
        )
    if validator == "oneOf" and isinstance(instance, Mapping):
        keys = ["op", *STRUCTURAL_KEYS]
        found = [key for key in keys if key in instance]
        if not found:
            return (
                f"a condition needs an 'op' or one of {', '.join(STRUCTURAL_KEYS)} "
                f"(found keys: {', '.join(map(str, instance)) or 'none'})",
                where,
            )
        return (
            f"a condition takes exactly one of op, {', '.join(STRUCTURAL_KEYS)}; found {', '.join(found)}",
            where,
        )
    if validator == "oneOf" and "path" in where:
        return "a path is a dotted string (a.b.c) or a non-empty list of keys", where
    if validator == "minItems":
        return f"needs at least {validator_value} item(s)", where
    if validator == "minLength":
        return "must not be empty", where
    if validator == "propertyNames":
        return f"invalid name: {error.message}", where
    return error.message, where


# -- loading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RawPack:
    source: str
    data: Mapping[str, Any]
    lines: _LineMap
    ref: PackRef

    @property
    def params(self) -> Mapping[str, Any]:
        params: Mapping[str, Any] = self.data.get("params", {})
        return params

    def error(self, message: str, json_at: str, policy_id: str | None = None) -> PackError:
        return PackError(
            message,
            path=self.source,
            line=self.lines.line_of(json_at),
            policy_id=policy_id,
            json_path=json_at,
        )


def _pack_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                child
                for child in path.iterdir()
                if child.suffix in PACK_SUFFIXES and child.is_file()
            )
            if not inside:
                raise PackError(
                    f"no packs ({', '.join(PACK_SUFFIXES)} files) in this folder", path=str(path)
                )
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            try:
                mode = path.stat().st_mode
            except OSError:
                raise PackError("no such file or folder", path=str(path)) from None
            if not stat.S_ISFIFO(mode):
                raise PackError(f"is {describe(mode)}, not a pack file or folder", path=str(path))
            found.append(path)  # a pipe (`--policies <(...)`): read within the pack limit
    return found


def _read_pack(path: Path) -> _RawPack:
    source = str(path)
    try:
        raw_bytes = read_bytes(path, "a policy pack", MAX_PACK_BYTES)
    except InputFileError as exc:
        raise PackError(str(exc).removeprefix(f"{source}: "), path=source) from exc
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(f"not UTF-8 text: {exc.reason}", path=source) from exc
    parse = _parse_json if path.suffix == ".json" else _parse_yaml
    data, lines = parse(text, source)
    return _validated(data, source, lines, raw_bytes, default_id=path.stem)


def _validated(
    data: Any, source: str, lines: _LineMap, raw_bytes: bytes, *, default_id: str
) -> _RawPack:
    _check_json_compatible(data, [], source, lines)
    error = best_match(pack_validator().iter_errors(data))
    if error is not None:
        message, where = _plain(error)
        policy_id = None
        if len(where) >= 2 and where[0] == "policies" and isinstance(where[1], int):
            policy = data["policies"][where[1]]
            if isinstance(policy, Mapping) and isinstance(policy.get("id"), str):
                policy_id = policy["id"]
        at = json_path(where)
        raise PackError(
            message, path=source, line=lines.line_of(at), policy_id=policy_id, json_path=at
        )
    meta = data.get("pack", {})
    ref = PackRef(
        id=meta.get("id", default_id),
        path=source,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        title=meta.get("title"),
    )
    return _RawPack(source=source, data=data, lines=lines, ref=ref)


def _same_json_kind(default: Any, override: Any) -> bool:
    def kind(value: Any) -> str:
        name = json_type(value)
        return "number" if name == "integer" else name

    return kind(default) == kind(override)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fit_override(name: str, default: Any, value: Any) -> Any:
    """Read a command-line override the way the pack's default reads.

    A list param given one plain value is a list of one (``--param required_tags=owner``);
    a comma list for a list of numbers is a list of numbers (``--param counts=1,3``).
    Raises ``PackError`` for a comma item that is not a number where numbers are expected.
    """
    if not isinstance(default, list):
        return value
    if not isinstance(value, list):
        value = [value]
    if default and all(_is_number(item) for item in default):
        fitted = []
        for item in value:
            if isinstance(item, str):
                with contextlib.suppress(json.JSONDecodeError):
                    item = json.loads(item)
            if not _is_number(item):
                raise PackError(
                    f"--param {name}: {show(item)} is not a number, and the pack's default "
                    f"{show(default)} is a list of numbers"
                )
            fitted.append(item)
        return fitted
    return value


def _effective_params(
    packs: Sequence[_RawPack], overrides: Mapping[str, Any]
) -> list[dict[str, Any]]:
    defined = {name for pack in packs for name in pack.params}
    for name in overrides:
        if name not in defined:
            known = ", ".join(sorted(defined)) or "none"
            raise PackError(f"--param {name}: no loaded pack defines this param (defined: {known})")
    effective: list[dict[str, Any]] = []
    for pack in packs:
        params = dict(pack.params)
        for name, value in overrides.items():
            if name not in params:
                continue
            value = _fit_override(name, params[name], value)
            if not _same_json_kind(params[name], value):
                raise pack.error(
                    f"--param {name}={show(value)} is {article(json_type(value))}, but the pack's "
                    f"default {show(params[name])} is {article(json_type(params[name]))}",
                    json_path(["params", name]),
                )
            params[name] = value
        effective.append(params)
    return effective


def _compile_policy(pack: _RawPack, index: int, params: Mapping[str, Any]) -> CompiledPolicy:
    raw = pack.data["policies"][index]
    at = json_path(["policies", index])

    def context(key: str) -> CompileContext:
        return CompileContext(
            params=params,
            json_path=f"{at}.{key}",
            pack_path=pack.source,
            policy_id=raw["id"],
            line_of=pack.lines.line_of,
        )

    frameworks = {label: tuple(ids) for label, ids in raw.get("frameworks", {}).items()}
    info = PolicyInfo(
        id=raw["id"],
        title=raw["title"],
        severity=Severity(raw["severity"]),
        pack_id=pack.ref.id,
        description=raw.get("description"),
        remediation=raw.get("remediation"),
        references=tuple(raw.get("references", ())),
        frameworks=frameworks,
        line=pack.lines.line_of(at),
        resource_type=ResourceType(raw.get("resource", ResourceType.TRAINED_MODEL.value)),
    )
    examples = raw.get("examples", {})
    roots: set[str] = set()
    # only a trained model version has context documents ($association, ...)
    allowed = info.resource_type is ResourceType.TRAINED_MODEL
    check_context = replace(context("check"), roots=roots, context_allowed=allowed)
    where_context = replace(context("where"), roots=roots, context_allowed=allowed)
    return CompiledPolicy(
        info=info,
        check=compile_condition(raw["check"], check_context),
        where=compile_condition(raw["where"], where_context) if "where" in raw else None,
        enabled=raw.get("enabled", True),
        examples=tuple(
            (status, tuple(examples.get(status.value, ())))
            for status in (Status.PASS, Status.FAIL, Status.SKIP)
        ),
        source=pack.source,
        line=pack.lines.line_of(at),
        roots=frozenset(roots),
    )


def _merged_params(
    packs: Sequence[_RawPack], effective: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    conflicts: set[str] = set()
    for params in effective:
        for name, value in params.items():
            if name in merged and merged[name] != value:
                conflicts.add(name)
            merged.setdefault(name, value)
    for name in conflicts:
        del merged[name]
        for pack, params in zip(packs, effective, strict=True):
            if name in params:
                merged[f"{pack.ref.id}:{name}"] = params[name]
    return merged


def load_packs(paths: Sequence[Path], overrides: Mapping[str, Any] | None = None) -> PolicySet:
    """Load, validate and compile packs (files, or folders of packs read in sorted order).

    Raises ``PackError`` for anything wrong: unreadable or invalid YAML/JSON, a schema
    violation, a bad regex, a policy id used twice, an undefined ``{param}``, an override
    for a param no pack defines, or an override of another JSON type than the default.
    """
    return _build([_read_pack(path) for path in _pack_files(paths)], overrides or {})


def load_pack_document(
    data: Mapping[str, Any], *, source: str = "<memory>", overrides: Mapping[str, Any] | None = None
) -> PolicySet:
    """``load_packs`` for one pack already in memory (a dict as YAML or JSON would give)."""
    raw_bytes = json.dumps(data, sort_keys=True).encode()
    pack = _validated(data, source, _LineMap({}), raw_bytes, default_id="pack")
    return _build([pack], overrides or {})


def _build(packs: Sequence[_RawPack], overrides: Mapping[str, Any]) -> PolicySet:
    first_seen: dict[str, str] = {}
    for pack in packs:
        for index, policy in enumerate(pack.data["policies"]):
            policy_id = policy["id"]
            if policy_id in first_seen:
                raise pack.error(
                    f"duplicate policy id (already defined in {first_seen[policy_id]})",
                    json_path(["policies", index, "id"]),
                    policy_id,
                )
            first_seen[policy_id] = pack.source
    effective = _effective_params(packs, overrides)
    policies = tuple(
        _compile_policy(pack, index, params)
        for pack, params in zip(packs, effective, strict=True)
        for index in range(len(pack.data["policies"]))
    )
    return PolicySet(
        policies=policies,
        packs=tuple(pack.ref for pack in packs),
        params=_merged_params(packs, effective),
    )


def parse_param_override(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` from ``--param``: VALUE as JSON, else a comma list, else a plain string.

    Raises ``PackError`` when there is no ``=`` or the name is empty.
    """
    name, separator, raw_value = text.partition("=")
    name = name.strip()
    if not separator or not name:
        raise PackError(f"--param {text!r}: expected NAME=VALUE")
    value: Any
    try:
        value = json.loads(raw_value)
    except json.JSONDecodeError:
        if "," in raw_value:
            value = [item.strip() for item in raw_value.split(",") if item.strip()]
        else:
            value = raw_value
    return name, value
