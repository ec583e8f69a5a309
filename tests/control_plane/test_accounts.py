"""Sign-up, login with a session cookie, profile, deactivation, logout, login rate limit."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.control_plane.helpers import signed_in, unique_email
from tests.support.databases import PASSWORD


def test_sign_up_then_log_in_sets_an_http_only_session_cookie(app: Litestar) -> None:
    client = TestClient(app)
    email = unique_email()
    created = client.post("/users", json={"email": email.upper(), "name": "Ada", "password": PASSWORD})
    assert created.status_code == 201
    assert created.json()["email"] == email  # stored lower-cased
    assert "password" not in created.text
    login = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"]
    assert "auralink_session=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    me = client.get("/users/me")
    assert me.status_code == 200 and me.json()["email"] == email and me.json()["memberships"] == []


def test_a_second_account_with_the_same_email_is_a_conflict(app: Litestar) -> None:
    client, _, email = signed_in(app)
    again = client.post("/users", json={"email": email, "name": "Other", "password": PASSWORD})
    assert again.status_code == 409 and email in again.json()["detail"]


def test_bad_sign_ups_say_what_is_wrong(app: Litestar) -> None:
    client = TestClient(app)
    short = client.post("/users", json={"email": unique_email(), "name": "A", "password": "short"})
    assert short.status_code == 400 and "password" in short.text
    bad_email = client.post("/users", json={"email": "not-an-email", "name": "A", "password": PASSWORD})
    assert bad_email.status_code == 400
    assert bad_email.json()["extra"] == [{"message": "that is not an e-mail address", "key": "email"}]
    control = client.post("/users", json={"email": unique_email(), "name": "A\u0007", "password": PASSWORD})
    assert control.json()["extra"] == [{"message": "must not contain control characters", "key": "name"}]
    extra = client.post("/users", json={"email": unique_email(), "name": "A", "password": PASSWORD, "admin": True})
    assert extra.status_code == 400 and "admin" in extra.text


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Litestar) -> None:
    client, _, email = signed_in(app)
    wrong = client.post("/auth/login", json={"email": email, "password": "wrong password!"})
    unknown = client.post("/auth/login", json={"email": unique_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_login_attempts_are_rate_limited_per_email(app: Litestar) -> None:
    client, _, email = signed_in(app)
    statuses = [
        client.post("/auth/login", json={"email": email, "password": "wrong password!"}).status_code for _ in range(10)
    ]
    assert statuses == [401] * 9 + [429]  # one attempt was the successful login of signed_in
    blocked = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1


def test_profile_update_and_password_change_need_the_current_password(app: Litestar) -> None:
    client, _, email = signed_in(app)
    renamed = client.patch("/users/me", json={"name": "Grace"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Grace"
    refused = client.patch("/users/me", json={"password": "a new long password", "current_password": "nope"})
    assert refused.status_code == 403
    changed = client.patch("/users/me", json={"password": "a new long password", "current_password": PASSWORD})
    assert changed.status_code == 200
    fresh = TestClient(client.app)
    assert fresh.post("/auth/login", json={"email": email, "password": "a new long password"}).status_code == 200


def test_logout_ends_the_session(app: Litestar) -> None:
    client, _, _ = signed_in(app)
    cookie = client.cookies.get("auralink_session")
    assert client.post("/auth/logout").status_code == 204
    stale = TestClient(app)
    stale.cookies.set("auralink_session", str(cookie))
    assert stale.get("/users/me").status_code == 401


def test_a_deactivated_user_can_no_longer_sign_in(app: Litestar) -> None:
    client, _, email = signed_in(app)
    assert client.post("/users/me/deactivate", json={"password": PASSWORD}).status_code == 204
    assert client.get("/users/me").status_code == 401
    again = TestClient(app).post("/auth/login", json={"email": email, "password": PASSWORD})
    assert again.status_code == 401 and "deactivated" in again.json()["detail"]


def test_anonymous_requests_are_told_how_to_authenticate(app: Litestar) -> None:
    response = TestClient(app).get("/users/me")
    assert response.status_code == 401 and "sign in" in response.json()["detail"]
    garbage = TestClient(app).get("/users/me", headers={"Authorization": "Bearer nonsense"})
    assert garbage.status_code == 401
