import jwt
import pytest

from pipeline.calls.tokens import Grant, TokenError, mint_join_token, verify_join_token

SECRET = "s" * 32


def test_a_minted_token_verifies_to_its_room_identity_and_grants() -> None:
    token = mint_join_token(SECRET, "standup", "alice", {Grant.PUBLISH, Grant.DATA}, ttl_s=60)
    claims = verify_join_token(SECRET, token)
    assert (claims.room, claims.identity) == ("standup", "alice")
    assert claims.allows(Grant.PUBLISH) and claims.allows(Grant.DATA)
    assert not claims.allows(Grant.SUBSCRIBE)


def test_an_expired_token_is_refused() -> None:
    token = mint_join_token(SECRET, "standup", "alice", ttl_s=60, now=1_000_000.0)
    with pytest.raises(TokenError, match="expired"):
        verify_join_token(SECRET, token)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = mint_join_token("x" * 32, "standup", "alice")
    with pytest.raises(TokenError, match="signed with a different secret than this server's"):
        verify_join_token(SECRET, token)


def test_an_unsigned_token_is_refused() -> None:
    forged = jwt.encode({"room": "r", "sub": "eve", "grants": ["publish"], "iat": 0, "exp": 2**40}, "", "none")
    with pytest.raises(TokenError):
        verify_join_token(SECRET, forged)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"sub": "a", "grants": [], "iat": 0, "exp": 2**40}, "room"),
        ({"room": "r", "sub": "a", "grants": ["root"], "iat": 0, "exp": 2**40}, "unknown grant"),
        ({"room": "r", "sub": "", "grants": [], "iat": 0, "exp": 2**40}, "sub"),
    ],
)
def test_tokens_with_bad_claims_say_which_claim(claims: dict[str, object], message: str) -> None:
    with pytest.raises(TokenError, match=message):
        verify_join_token(SECRET, jwt.encode(claims, SECRET, "HS256"))


def test_garbage_and_short_secrets_are_clear_errors() -> None:
    with pytest.raises(TokenError, match="malformed"):
        verify_join_token(SECRET, "not-a-token")
    with pytest.raises(TokenError, match="at least 32 bytes"):
        mint_join_token("short", "r", "a")
    with pytest.raises(TokenError, match="ttl"):
        mint_join_token(SECRET, "r", "a", ttl_s=10**9)
