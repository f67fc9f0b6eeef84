"""moto's Security Hub in server mode, behind a small recording proxy that can throttle.

The publisher talks to the proxy exactly as to AWS (the SDK finds it through
``AWS_ENDPOINT_URL_SECURITYHUB``). The proxy forwards every request to moto, records which
API each one called (Security Hub is rest-json: the method and path name the operation),
answers the first ``throttle_next`` BatchImportFindings calls with the 429
``TooManyRequestsException`` Security Hub sends when throttling, and strips the resources of
the findings named in ``refuse_ids`` so that moto itself refuses them (``FailedFindings``).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.sdk_env import isolate_sdk

ACCOUNT = "123456789012"  # moto's account for any access key it did not issue itself
REGION = "us-east-1"

# Security Hub's rest-json routes of the operations the tests may see
OPERATIONS = {
    ("POST", "/findings"): "GetFindings",
    ("POST", "/findings/import"): "BatchImportFindings",
    ("PATCH", "/findings/batchupdate"): "BatchUpdateFindings",
    ("PATCH", "/findings"): "UpdateFindings",
    ("POST", "/accounts"): "EnableSecurityHub",
}


@dataclass
class Recorder:
    calls: list[str] = field(default_factory=list)
    throttle_next: int = 0
    throttled: int = 0
    refuse_ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _proxy(upstream: str, recorder: Recorder) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            operation = OPERATIONS.get((self.command, path), f"{self.command} {path}")
            with recorder.lock:
                recorder.calls.append(operation)
                throttle = operation == "BatchImportFindings" and recorder.throttle_next > 0
                if throttle:
                    recorder.throttle_next -= 1
                    recorder.throttled += 1
            if throttle:
                payload = json.dumps({"message": "Rate exceeded"}).encode()
                self.send_response(429)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if operation == "BatchImportFindings" and recorder.refuse_ids:
                document = json.loads(body)
                for finding in document["Findings"]:
                    if finding["Id"] in recorder.refuse_ids:
                        finding["Resources"] = []
                body = json.dumps(document).encode()
            dropped = ("host", "content-length")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
            request = urllib.request.Request(
                upstream + self.path, data=body or None, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, reply, reply_headers = (
                        response.status,
                        response.read(),
                        response.headers,
                    )
            except urllib.error.HTTPError as error:
                status, reply, reply_headers = error.code, error.read(), error.headers
            self.send_response(status)
            for name, value in reply_headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _relay

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@dataclass
class SecurityHub:
    url: str  # the proxy: what the publisher is pointed at
    moto_url: str
    recorder: Recorder

    def client(self) -> Any:
        """A boto3 client straight to moto, for the tests' own reads and set-up."""
        return boto3.client(
            "securityhub",
            region_name=REGION,
            endpoint_url=self.moto_url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
        )

    def findings(self) -> dict[str, dict[str, Any]]:
        """Every finding moto holds in the account and region, by Id."""
        found: dict[str, dict[str, Any]] = {}
        for page in self.client().get_paginator("get_findings").paginate():
            for finding in page["Findings"]:
                assert finding["Id"] not in found, f"duplicate finding {finding['Id']}"
                found[finding["Id"]] = finding
        return found


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def security_hub(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecurityHub]:
    """A fresh Security Hub (moto reset), the proxy in front, the SDK pointed at it."""
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    ).close()
    recorder = Recorder()
    proxy = _proxy(moto_server, recorder)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    isolate_sdk(monkeypatch, REGION)
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECURITYHUB", url)
    hub = SecurityHub(url=url, moto_url=moto_server, recorder=recorder)
    hub.client().enable_security_hub()
    try:
        yield hub
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()
