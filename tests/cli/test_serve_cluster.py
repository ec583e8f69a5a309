"""``auralink serve cluster`` and ``serve front`` as a user runs them: Redis or a clear error, workers that
register, a front that lists them, and SIGTERM that drains everything and exits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from tests.cli.helpers import invoke
from tests.support.databases import REDIS_URL, RUN_ID


def test_a_front_without_redis_says_what_to_set(tmp_path: Path) -> None:
    result = invoke("serve", "front", "--port", "0", env={"AURALINK_REDIS_URL": "", "AURALINK_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "a cluster needs Redis: set cluster_redis_url (AURALINK_CLUSTER_REDIS_URL) or redis_url" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_a_cluster_whose_redis_is_unreachable_names_it(tmp_path: Path) -> None:
    env = {"AURALINK_CLUSTER_REDIS_URL": "redis://127.0.0.1:1/0", "AURALINK_DATA_DIR": str(tmp_path)}
    result = invoke("serve", "cluster", "--workers", "1", "--port", "0", env=env)
    assert result.exit_code == 1
    assert "the cluster's Redis at 127.0.0.1:1 is unreachable" in result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.slow
def test_serve_cluster_runs_two_workers_behind_a_front_and_drains_on_sigterm(tmp_path: Path) -> None:
    prefix = f"auralink-test-{RUN_ID}-{uuid.uuid4().hex[:8]}:"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "AURALINK_REDIS_URL": REDIS_URL,
        "AURALINK_REDIS_KEY_PREFIX": prefix,
        "AURALINK_DATA_DIR": str(tmp_path),
        "AURALINK_ICE_HOST_ADDRESSES": '["127.0.0.1"]',
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "auralink", "serve", "cluster", "--workers", "2", "--port", "0"],
        cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            if match := re.search(r"front listening on (http://127\.0\.0\.1:\d+)", line):
                url = match.group(1)
        assert url is not None, "".join(lines)
        assert "2 of 2 engine workers serving" in "".join(lines)
        workers = httpx.get(f"{url}/cluster/workers").json()["workers"]
        assert [w["state"] for w in workers] == ["serving", "serving"]
        assert len({w["pid"] for w in workers}) == 2 and all(w["rooms"] == [] for w in workers)

        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(lines) + rest
    assert rest.count("drained") == 2 and "Traceback" not in rest
    client = redis.Redis.from_url(REDIS_URL)
    assert not list(client.scan_iter(f"{prefix}cluster:worker:*"))  # both left the cluster
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
