from __future__ import annotations

import pytest

from auditor.emulator import EmulatorServer
from auditor.fleet import Fleet


def test_server_stops_cleanly_and_twice(fleet: Fleet) -> None:
    server = EmulatorServer(fleet).start()
    url = server.endpoint_url

    server.stop()
    server.stop()

    assert url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.endpoint_url


def test_start_raises_when_the_port_is_taken(fleet: Fleet) -> None:
    with EmulatorServer(fleet) as first:
        port = int(first.endpoint_url.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="address already in use"):
            EmulatorServer(fleet, port=port).start()
