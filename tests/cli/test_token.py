"""``auralink token``: a signed join token from the configured or the kept secret."""

from pathlib import Path

import pytest

from auralink.cli.token import GRANTS, MAX_TTL_S
from pipeline.calls.tokens import MAX_TTL_S as TOKENS_MAX_TTL_S
from pipeline.calls.tokens import Grant, TokenError, mint_join_token, verify_join_token
from settings import join_token_secret, load_settings
from tests.cli.helpers import invoke


def test_token_is_signed_with_the_secret_kept_in_the_data_dir(tmp_path: Path) -> None:
    env = {"AURALINK_DATA_DIR": str(tmp_path / "data")}
    result = invoke("token", "--room", "standup", "--identity", "alice", "--grant", "publish", "--ttl", "60", env=env)
    assert result.exit_code == 0, result.output
    secret_file = tmp_path / "data" / "join-token.secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    claims = verify_join_token(secret_file.read_text().strip(), result.stdout.strip())
    assert (claims.room, claims.identity, claims.grants) == ("standup", "alice", frozenset({Grant.PUBLISH}))
    again = invoke("token", "--room", "standup", "--identity", "bob", env=env)
    default = verify_join_token(secret_file.read_text().strip(), again.stdout.strip())
    assert default.grants == {Grant.PUBLISH, Grant.SUBSCRIBE, Grant.DATA}


def test_a_configured_secret_is_used_and_a_short_one_is_refused(tmp_path: Path) -> None:
    secret = "k" * 40
    result = invoke("token", "--room", "r", "--identity", "a", env={"AURALINK_JOIN_TOKEN_SECRET": secret})
    assert verify_join_token(secret, result.stdout.strip()).identity == "a"
    short = invoke("token", "--room", "r", "--identity", "a", env={"AURALINK_JOIN_TOKEN_SECRET": "short"})
    assert short.exit_code == 1 and "join_token_secret must be at least 32 bytes" in short.output
    assert "short" not in short.output.replace("join_token_secret", "")  # the secret itself is never printed


def test_grant_choices_and_ttl_follow_the_token_module() -> None:
    assert set(GRANTS) == {grant.value for grant in Grant} and MAX_TTL_S == TOKENS_MAX_TTL_S
    bad = invoke("token", "--room", "r", "--identity", "a", "--ttl", "0")
    assert bad.exit_code == 2 and "0.0 is not in the range 1<=x<=86400" in bad.output


def test_token_and_engine_run_from_different_directories_share_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("AURALINK_DATA_DIR", raising=False)
    (tmp_path / "ops").mkdir()
    (tmp_path / "srv").mkdir()
    monkeypatch.chdir(tmp_path / "ops")
    token = invoke("token", "--room", "standup", "--identity", "alice").stdout.strip()
    monkeypatch.chdir(tmp_path / "srv")
    engine_settings = load_settings()
    assert engine_settings.data_dir == tmp_path / "xdg" / "auralink"
    assert verify_join_token(join_token_secret(engine_settings), token).identity == "alice"
    shown = invoke("config", env={"COLUMNS": "300"}).stdout
    assert f"data directory: {tmp_path / 'xdg' / 'auralink'}" in shown


def test_a_token_signed_with_another_secret_says_so() -> None:
    token = mint_join_token("a" * 40, "standup", "alice")
    with pytest.raises(TokenError, match="signed with a different secret than this server's"):
        verify_join_token("b" * 40, token)


@pytest.mark.parametrize("room", ["bad room", "r" * 65, "room/../x"])
def test_a_token_for_a_room_no_engine_can_open_is_refused_in_words(room: str) -> None:
    refused = invoke("token", "--room", room, "--identity", "alice")
    assert refused.exit_code == 1
    assert "a room name is 1 to 64 letters, digits, '_', '.' or '-'" in refused.output


def test_the_engine_refuses_a_port_that_does_not_exist() -> None:
    result = invoke("serve", "engine", "--port", "99999")
    assert result.exit_code == 2 and "99999 is not in the range 0<=x<=65535" in result.output
