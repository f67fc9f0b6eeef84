"""AWS rest-json on the wire: SigV4 credential scopes, error bodies, list bodies."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from aiohttp import web

CLEANROOMS = "cleanrooms"
CLEANROOMS_ML = "cleanrooms-ml"
_BOTOCORE_NAMES = {CLEANROOMS: "cleanrooms", CLEANROOMS_ML: "cleanroomsml"}

_request_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who signed a request, from its SigV4 credential scope (the signature is not checked)."""

    access_key_id: str
    region: str
    service: str

    @property
    def key(self) -> str:
        return f"{self.access_key_id}/{self.region}/{self.service}"


def parse_authorization(header: str | None) -> Caller | None:
    """The caller of ``AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...``;
    None when the header is missing or not SigV4."""
    if not header or not header.startswith("AWS4-HMAC-SHA256 "):
        return None
    _, found, rest = header.partition("Credential=")
    if not found:
        return None
    scope = rest.split(",", 1)[0].strip().split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        return None
    return Caller(access_key_id=scope[0], region=scope[2], service=scope[3])


def request_id() -> str:
    return f"00000000-0000-4000-8000-{next(_request_ids):012d}"


def json_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(
        body=body,
        status=status,
        content_type="application/json",
        headers={"x-amzn-RequestId": request_id()},
    )


def error_response(status: int, code: str, message: str) -> web.Response:
    """An error as botocore's rest-json parser reads it: code in the header and ``__type``."""
    return web.Response(
        body=json.dumps({"__type": code, "message": message}).encode(),
        status=status,
        content_type="application/json",
        headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": request_id()},
    )


def list_body(field: str, items: Sequence[bytes], next_token: str | None) -> bytes:
    """``{"<field>": [items...], "nextToken": ...}`` from pre-serialised items."""
    body = b'{"' + field.encode() + b'":[' + b",".join(items) + b"]"
    if next_token is not None:
        body += b',"nextToken":"' + next_token.encode() + b'"'
    return body + b"}"


@cache
def _routes(service: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(_BOTOCORE_NAMES[service])
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        template = http["requestUri"].split("?", 1)[0]
        pattern = re.sub(
            r"\\\{([^}]+)\\\}",
            lambda m: ".+" if m.group(1).endswith("\\+") else "[^/]+",
            re.escape(template),
        )
        routes.append((http["method"], re.compile(pattern + "/?"), name))
    return tuple(routes)


def aws_operation_name(method: str, path: str, service: str | None) -> str | None:
    """The AWS operation botocore would send as ``method path`` to ``service`` (None: unknown)."""
    services = [service] if service in _BOTOCORE_NAMES else list(_BOTOCORE_NAMES)
    for name in services:
        assert name is not None
        for route_method, pattern, operation in _routes(name):
            if route_method == method and pattern.fullmatch(path):
                return operation
    return None
