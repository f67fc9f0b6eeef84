"""Keeping credentials out of everything auditor writes: logs, error messages, reports.

Two layers. ``remember`` registers the exact secrets of the credentials in use (access key id,
secret key, session token) and ``redact`` replaces them, and anything shaped like an AWS
access key id or a SigV4 ``Authorization`` / ``X-Amz-Security-Token`` value, with
``[REDACTED]``. ``install`` makes every log record pass through ``redact`` before any handler
sees it (botocore's DEBUG lines print request headers, signatures and the session token).
Error messages from AWS go through ``redact`` in ``translate_error`` (a service may echo the
access key id: "The AWS Access Key Id you provided ...", the emulator's AccessDenied text).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
_MIN_SECRET_LENGTH = 8  # shorter "secrets" (test stubs like "x") would redact ordinary text

# Access key ids (AKIA long-term, ASIA temporary, and the other documented unique-id prefixes),
# SigV4 credential scopes and signatures, and the session-token header in any spelling botocore
# logs it (dict repr with bytes values, canonical request "name:value" lines).
_PATTERNS = (
    re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{12,}\b"),
    re.compile(r"(Credential=)[^,\s'\"]+", re.IGNORECASE),
    re.compile(r"(Signature=)[0-9a-fA-F]+", re.IGNORECASE),
    re.compile(r"(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}]+", re.IGNORECASE),
    re.compile(r"(X-Amz-Security-Token=)[^&\s'\"]+", re.IGNORECASE),
    re.compile(r"(aws_session_token['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+", re.IGNORECASE),
    re.compile(r"(aws_secret_access_key['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+", re.IGNORECASE),
)

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()


def remember(values: Iterable[str | None]) -> None:
    """Redact these exact strings from now on (credentials the process is using)."""
    global _secrets
    new = {v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH}
    if not new - _secrets:
        return
    with _lock:
        _secrets = _secrets | new


def redact(text: str) -> str:
    """``text`` with every known secret and credential-shaped substring replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


_installed = False
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the handler to report
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text)
    return record


def install() -> None:
    """Route every log record created from now on through ``redact`` (idempotent)."""
    global _installed, _base_factory
    with _lock:
        if _installed:
            return
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)
        _installed = True


__all__ = ["REDACTED", "install", "redact", "remember"]
