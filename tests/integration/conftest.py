"""pytest fixtures for baton's integration suite (helpers live in harness.py).

- `backend` / `backends`: echo origins on 127.0.0.1:0, closed after the test.
- `baton`: an unstarted harness.Baton; call .start(config). Teardown sends SIGTERM and asserts a
  clean exit (0): a crash (negative returncode) fails the test.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


@pytest.fixture
def backends():
    """Factory: backends(n) -> list of n fresh echo backends (b0, b1, ...)."""
    made: list[harness.Backend] = []

    def make(n: int = 1) -> list[harness.Backend]:
        new = [harness.Backend(f"b{len(made) + i}") for i in range(n)]
        made.extend(new)
        return new

    yield make
    for b in made:
        b.close()


@pytest.fixture
def backend(backends) -> harness.Backend:
    return backends(1)[0]


@pytest.fixture
def baton(tmp_path):
    b = harness.Baton(tmp_path)
    yield b
    if b.proc is None:
        return
    rc = b.stop()
    assert rc == 0, f"baton exited with {rc} (negative = killed by signal); stderr:\n{b.stderr()[-4000:]}"


@pytest.fixture
def start(baton, backend):
    """Shortcut: start(**make_config kwargs) with `backend` as cluster "web" unless given."""

    def go(workers: int | None = None, **kw) -> harness.Baton:
        kw.setdefault("clusters", {"web": [backend.address]})
        return baton.start(harness.make_config(**kw), workers=workers)

    return go
