"""Pack regexes are RE2: search semantics, linear time by construction, no fallback to ``re``,
and a pattern that needs backtracking is refused at load, naming what it uses."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import re2  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.cli import main
from auditor.errors import PackError
from auditor.models import Status
from auditor.policy.leaves import compile_re2, searcher

from .conftest import pack_with


def regex_status(pattern: str, value: str, op: str = "regex") -> Status:
    status, _ = pack_with({"path": "v", "op": op, "value": pattern}).policies[0].judge({"v": value})
    return status


@pytest.mark.parametrize(
    ("pattern", "value", "found"),
    [
        ("(a{1,20}){1,20}$", "a" * 50, True),
        ("(a{1,20}){1,20}$", "a" * 49 + "!", False),
        ("^([a-z0-9]{1,10}-?){1,10}$", "a" * 49 + "!", False),
        ("^([a-z0-9]{1,10}-?){1,10}$", "abc-def-ghi", True),
        ("^([a-z0-9]{1,10}-?){1,10}$", "a" * 50, True),
    ],
)
def test_nested_bounded_repeats_load_and_judge_a_50_character_value(
    pattern: str, value: str, found: bool
) -> None:
    assert regex_status(pattern, value) is (Status.PASS if found else Status.FAIL)
    assert regex_status(pattern, value, "not-regex") is (Status.FAIL if found else Status.PASS)


@pytest.mark.parametrize(
    ("pattern", "value", "found"),
    [
        ("m5", "ml.m5.xlarge", True),  # search, not match
        ("^m5", "ml.m5.xlarge", False),
        ("(?i)^aws:", "AwS:owner", True),
        ("^a$", "a\n", False),  # $ is the very end of the text, unlike Python's re
        ("^[\\p{L}\\p{N}]+$", "Zoë٤", True),  # Unicode classes, as AWS documents tag patterns
        ("^\\d+$", "٤٧", False),  # \d is ASCII in RE2
    ],
)
def test_search_semantics(pattern: str, value: str, found: bool) -> None:
    assert regex_status(pattern, value) is (Status.PASS if found else Status.FAIL)


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        ("(a)\\1", "a backreference"),
        ("(?P<x>a)(?P=x)", "a backreference"),
        ("a(?=b)", "a lookahead"),
        ("a(?!b)", "a negative lookahead"),
        ("(?<=a)b", "a lookbehind"),
        ("(?<!a)b", "a negative lookbehind"),
        ("a++", "a possessive quantifier"),
        ("(?>a+)b", "an atomic group"),
        ("a\\Z", "\\Z (RE2 writes the end of the text as \\z"),
    ],
)
def test_constructs_that_need_backtracking_are_refused_naming_them(
    pattern: str, construct: str
) -> None:
    with pytest.raises(PackError) as caught:
        pack_with({"path": "v", "op": "regex", "value": pattern})

    assert construct in caught.value.detail
    assert "RE2" in caught.value.detail
    assert caught.value.json_path == "$.policies[0].check.value"


def test_python_only_spellings_are_refused_rather_than_read_differently() -> None:
    with pytest.raises(PackError, match=r"write \{0,n\}"):
        pack_with({"path": "v", "op": "regex", "value": "^a{,3}$"})
    with pytest.raises(PackError, match="invalid regex"):
        pack_with({"path": "v", "op": "not-regex", "value": "(unclosed"})


def test_re2_never_falls_back_to_re() -> None:
    compiled = compile_re2("(?i)^aws:")

    assert not isinstance(compiled, re.Pattern)
    assert type(compiled).__module__ == "re2"
    with pytest.raises(re2.error):  # the library raises; it does not hand over to re
        re2.compile("(a)\\1")


PATTERNS = ["(?i)^aws:", "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", "a|b", "^$", "x*", "é$", "(?i)É"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATTERNS), st.text(max_size=12) | st.sampled_from(["aws:x", "AWS:", "é"]))
def test_the_fast_search_agrees_with_the_re2_module(pattern: str, text: str) -> None:
    compiled = compile_re2(pattern)
    found = searcher(compiled)
    public_api_only = searcher(SimpleNamespace(search=compiled.search))  # another re2 layout
    expected = compiled.search(text.encode("utf-8", "surrogatepass")) is not None

    assert found(text) is expected
    assert found(text) is expected  # remembered: the same answer
    assert public_api_only(text) is expected


def test_a_lone_surrogate_is_judged_not_raised() -> None:
    letters_only = "^[\\p{L}]*$"

    assert regex_status(letters_only, "ab") is Status.PASS
    assert regex_status(letters_only, "a\ud800") is Status.FAIL
    assert regex_status("x", "\ud800", "not-regex") is Status.PASS


def test_a_backreference_in_a_pack_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "version: 1\npolicies:\n  - id: p\n    title: P\n    severity: high\n"
        "    check: {path: name, op: regex, value: '(a)\\1'}\n",
        encoding="utf-8",
    )

    assert main(["policies", "validate", str(pack)]) == 2

    _, err = capsys.readouterr()
    assert f"{pack}:6: policy 'p'" in err
    assert "uses a backreference" in err
