"""``auralink serve aic`` as a user runs it: it says where it listens, serves, and stops on Ctrl-C."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import grpc

from protos.gen import aic_compression_pb2 as pb
from protos.gen import aic_compression_pb2_grpc as pb_grpc
from tests.cli.helpers import invoke, spawn


def test_serve_aic_listens_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = spawn("serve", "aic", "--port", "0", cwd=tmp_path)
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"AIC service listening on 127\.0\.0\.1:(\d+)", line)
    assert match, line
    with grpc.insecure_channel(f"127.0.0.1:{match.group(1)}") as channel:
        health = pb_grpc.AICCompressionServiceStub(channel).HealthCheck(pb.HealthCheckRequest(), timeout=60)
    assert health.status == pb.HealthCheckResponse.SERVING_STATUS_SERVING
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_serve_aic_is_listed_under_serve() -> None:
    result = invoke("serve", "--help")
    assert "aic" in result.output
