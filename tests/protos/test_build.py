from pathlib import Path

import pytest

from protos.build import ProtoBuildError, generate, is_stale

GREETER = """
syntax = "proto3";
package auralink.test.v1;
message Hello { string name = 1; }
service Greeter { rpc Greet(Hello) returns (Hello); }
"""


def test_the_checked_out_protos_gen_matches_the_protos() -> None:
    assert not is_stale(), "protos/gen is stale: run python -m protos.build"


def test_generated_code_imports_its_siblings_from_the_package(tmp_path: Path) -> None:
    (tmp_path / "greeter.proto").write_text(GREETER)
    written = {path.name for path in generate(tmp_path / "gen", tmp_path)}
    assert {"greeter_pb2.py", "greeter_pb2.pyi", "greeter_pb2_grpc.py", "greeter_pb2_grpc.pyi"} <= written
    grpc_module = (tmp_path / "gen" / "greeter_pb2_grpc.py").read_text()
    assert "from protos.gen import greeter_pb2 as" in grpc_module


def test_an_edited_proto_makes_the_generated_code_stale(tmp_path: Path) -> None:
    (tmp_path / "greeter.proto").write_text(GREETER)
    generate(tmp_path / "gen", tmp_path)
    assert not is_stale(tmp_path / "gen", tmp_path)
    (tmp_path / "greeter.proto").write_text(GREETER.replace("string name = 1;", "string name = 1; int32 n = 2;"))
    assert is_stale(tmp_path / "gen", tmp_path)


def test_a_broken_proto_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.proto").write_text('syntax = "proto3"; message {')
    with pytest.raises(ProtoBuildError, match=r"broken\.proto"):
        generate(tmp_path / "gen", tmp_path)
