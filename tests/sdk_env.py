"""The SDK's own configuration, pointed at an emulator over loopback: throwaway keys, no
profile files, no AWS_* variable of the machine's left over."""

from __future__ import annotations

import os

import pytest


def point_sdk_at(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMS", endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", endpoint_url)
