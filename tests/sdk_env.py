"""The SDK's own configuration for tests: throwaway keys, no profile files, no instance
metadata, no AWS_* variable of the machine's left over; and pointed at an emulator over
loopback."""

from __future__ import annotations

import os

import pytest


def isolate_sdk(monkeypatch: pytest.MonkeyPatch, region: str = "us-east-1") -> None:
    """The SDK sees only throwaway credentials and ``region``, nothing of this machine's."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def point_sdk_at(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    """``isolate_sdk``, with Clean Rooms and Clean Rooms ML at ``endpoint_url``."""
    isolate_sdk(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMS", endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", endpoint_url)
