"""Loopback ports for the local servers (moto, DynamoDB Local, the stand-in calendar).

Its own module so that the emulator and DynamoDB Local both import it from below rather than
one of them importing the other.
"""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
