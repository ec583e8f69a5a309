"""A periodic job outlives the failures it did not expect: it logs them, backs off and runs again."""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import pytest
import structlog
from litestar import Litestar
from litestar.testing import TestClient

from control_plane.app import create_app
from control_plane.plugins import CorePlugin, PeriodicJobPlugin
from control_plane.state import AppState
from settings import Settings
from tests.control_plane.helpers import member, owner
from tests.support.databases import REDIS_URL


class RedisProxy:
    """A TCP proxy in front of the test Redis that can drop it (refuse and cut every connection) and bring it back."""

    def __init__(self, target: str = REDIS_URL) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}{parts.path}"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.05)
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def stop(self) -> None:
        """Redis is gone: new connections are refused and open ones are cut."""
        listener, self._listener = self._listener, None
        if self._accepting is not None:
            self._accepting.join()
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def redis_proxy() -> Iterator[RedisProxy]:
    proxy = RedisProxy()
    proxy.start()
    yield proxy
    proxy.stop()


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def job_events(events: Sequence[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [e for e in list(events) if e.get("job") == name and e["event"] in ("job ran", "job failed")]


def test_the_compliance_job_survives_redis_going_away_and_its_next_run_succeeds(
    settings: Settings, redis_proxy: RedisProxy
) -> None:
    changed = {"redis_url": redis_proxy.url, "compliance_run_on_request": False, "compliance_interval_s": 0.2}
    app: Litestar = create_app(settings.model_copy(update=changed), migrate=False)
    with structlog.testing.capture_logs() as events, TestClient(app):
        acme = owner(app)
        zelda = member(app, acme, "member")
        wait_for(lambda: bool(job_events(events, "compliance")), "a first run of the compliance job")

        redis_proxy.stop()  # the erasure's last step forgets zelda in Redis's live metrics: a ConnectionError
        erasure = acme.client.post("/compliance/erasures", json={"user_id": zelda.user_id})
        assert erasure.status_code == 201, erasure.text
        wait_for(
            lambda: any(e["event"] == "job failed" for e in job_events(events, "compliance")),
            "the compliance job to fail without Redis",
        )
        failure = next(e for e in job_events(events, "compliance") if e["event"] == "job failed")
        assert failure["error"].startswith("ConnectionError") and failure["log_level"] == "error"
        assert failure["retry_in_s"] == pytest.approx(0.4) and failure["exc_info"] is True

        redis_proxy.start()
        export = acme.client.post("/compliance/exports", json={}).json()
        wait_for(
            lambda: acme.client.get(f"/compliance/requests/{export['id']}").json()["status"] == "completed",
            "the next run of the compliance job to carry out the export",
        )

        def ran_after_the_failure() -> bool:
            after = job_events(events, "compliance")[job_events(events, "compliance").index(failure) + 1 :]
            return any(e["event"] == "job ran" and e["outcome"]["requests"] >= 1 for e in after)

        # the job logs its run after the run's requests are committed
        wait_for(ran_after_the_failure, "the job's log of the run that carried out the export")
        # the erasure that met no Redis was rolled back, not lost: it ran again and is complete now
        erased = acme.client.get(f"/compliance/requests/{erasure.json()['id']}").json()
        assert erased["status"] == "completed", erased


def test_failures_in_a_row_back_off_exponentially_up_to_a_cap_and_a_success_resets_it(settings: Settings) -> None:
    calls: list[float] = []

    def flaky(state: AppState) -> str:
        calls.append(time.monotonic())
        if len(calls) in (1, 2, 3, 5):
            raise RuntimeError(f"failure {len(calls)}")
        return "ok"

    job = PeriodicJobPlugin("flaky", 0.1, flaky, max_backoff_s=0.3)
    assert [job.delay_after(n) for n in range(5)] == [0.1, 0.2, 0.3, 0.3, 0.3]
    assert PeriodicJobPlugin("hourly", 3600, flaky).delay_after(3) == 3600  # never slower than its interval
    app = Litestar(plugins=[CorePlugin(settings), job])
    with structlog.testing.capture_logs() as events, TestClient(app):
        wait_for(lambda: len(job_events(events, "flaky")) >= 6, "six runs, each logged")  # a run logs after it returns
    outcomes = job_events(events, "flaky")[:6]
    assert [e["event"] for e in outcomes] == ["job failed"] * 3 + ["job ran", "job failed", "job ran"]
    assert [e.get("retry_in_s") for e in outcomes] == [0.2, 0.3, 0.3, None, 0.2, None]
    assert outcomes[0]["error"] == "RuntimeError: failure 1"
    waits = [later - earlier for earlier, later in itertools.pairwise(calls)][:5]
    assert all(wait >= 0.9 * planned for wait, planned in zip(waits, [0.2, 0.3, 0.3, 0.1, 0.2], strict=True)), waits
