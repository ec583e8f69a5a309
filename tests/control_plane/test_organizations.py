"""Organisations, plans, members and roles, invitations."""

from __future__ import annotations

from litestar import Litestar

from tests.control_plane.helpers import member, owner, signed_in


def test_the_creator_owns_the_organisation_and_sees_it(app: Litestar) -> None:
    acme = owner(app, "Acme")
    got = acme.client.get(f"/organizations/{acme.organization_id}")
    assert got.status_code == 200
    assert got.json()["name"] == "Acme" and got.json()["plan"] == "free" and got.json()["max_members"] == 5
    assert [o["id"] for o in acme.client.get("/organizations").json()] == [acme.organization_id]
    members = acme.client.get(f"/organizations/{acme.organization_id}/members").json()
    assert [(m["user_id"], m["role"]) for m in members] == [(acme.user_id, "owner")]


def test_rename_and_plan_changes_need_their_roles(app: Litestar) -> None:
    acme = owner(app)
    viewer = member(app, acme, "viewer")
    billing = member(app, acme, "billing_manager")
    path = f"/organizations/{acme.organization_id}"
    assert viewer.client.patch(path, json={"name": "Hacked"}).status_code == 403
    assert billing.client.patch(path, json={"name": "Hacked"}).status_code == 403
    assert acme.client.patch(path, json={"name": "Acme Ltd"}).json()["name"] == "Acme Ltd"
    assert viewer.client.put(f"{path}/limits", json={"max_agents": 1}).status_code == 403
    limited = billing.client.put(f"{path}/limits", json={"max_agents": 2, "monthly_spend_alert": 20})
    assert limited.status_code == 200
    assert (limited.json()["plan"], limited.json()["max_members"], limited.json()["max_agents"]) == ("free", 5, 2)
    beyond = billing.client.put(f"{path}/limits", json={"max_members": 6})
    assert beyond.status_code == 400
    assert "at most 5 on the free plan" in beyond.text and "/billing/subscription" in beyond.text
    assert billing.client.put(f"{path}/limits", json={"plan": "pro"}).status_code == 400  # plans change in /billing
    assert viewer.client.get(path).json()["name"] == "Acme Ltd"


def test_invitations_add_members_with_their_role_once(app: Litestar) -> None:
    acme = owner(app)
    client, _, email = signed_in(app)
    invited = acme.client.post(
        f"/organizations/{acme.organization_id}/invitations", json={"email": email, "role": "admin"}
    )
    assert invited.status_code == 201 and invited.json()["token"]
    listed = acme.client.get(f"/organizations/{acme.organization_id}/invitations").json()
    assert listed[0]["email"] == email and "token" not in listed[0]
    token = invited.json()["token"]
    assert client.post("/invitations/accept", json={"token": token}).json()["role"] == "admin"
    assert client.post("/invitations/accept", json={"token": token}).status_code == 409
    other, _, _ = signed_in(app)
    again = acme.client.post(f"/organizations/{acme.organization_id}/invitations", json={"email": "x@example.com"})
    assert other.post("/invitations/accept", json={"token": again.json()["token"]}).status_code == 403


def test_revoked_invitations_cannot_be_used(app: Litestar) -> None:
    acme = owner(app)
    client, _, email = signed_in(app)
    base = f"/organizations/{acme.organization_id}/invitations"
    invited = acme.client.post(base, json={"email": email}).json()
    assert acme.client.delete(f"{base}/{invited['id']}").status_code == 204
    assert client.post("/invitations/accept", json={"token": invited["token"]}).status_code == 409


def test_the_plan_limits_members(app: Litestar) -> None:
    acme = owner(app)
    for _ in range(4):
        member(app, acme, "member")
    refused = acme.client.post(f"/organizations/{acme.organization_id}/invitations", json={"email": "six@example.com"})
    assert refused.status_code == 409 and "5 members" in refused.json()["detail"]


def test_roles_change_within_the_granter_s_own_rank_and_an_owner_always_remains(app: Litestar) -> None:
    acme = owner(app)
    admin = member(app, acme, "admin")
    someone = member(app, acme, "member")
    base = f"/organizations/{acme.organization_id}/members"
    assert admin.client.patch(f"{base}/{someone.user_id}", json={"role": "owner"}).status_code == 403
    assert admin.client.patch(f"{base}/{acme.user_id}", json={"role": "member"}).status_code == 403
    assert admin.client.patch(f"{base}/{someone.user_id}", json={"role": "viewer"}).json()["role"] == "viewer"
    last_owner = acme.client.patch(f"{base}/{acme.user_id}", json={"role": "admin"})
    assert last_owner.status_code == 409 and "owner" in last_owner.json()["detail"]
    assert someone.client.delete(f"{base}/{admin.user_id}").status_code == 403
    assert admin.client.delete(f"{base}/{someone.user_id}").status_code == 204
    assert someone.client.get(f"/organizations/{acme.organization_id}").status_code == 403
    assert acme.client.patch(f"{base}/999999", json={"role": "viewer"}).status_code == 404
    assert acme.client.patch(f"{base}/{admin.user_id}", json={"role": "emperor"}).status_code == 400


def test_a_user_in_two_organisations_switches_between_them(app: Litestar) -> None:
    acme = owner(app, "Acme")
    second = acme.client.post("/organizations", json={"name": "Second"}).json()["id"]
    assert acme.client.post("/auth/organization", json={"organization_id": second}).status_code == 200
    assert acme.client.get("/api-keys").status_code == 200
    other = owner(app, "Other")
    refused = acme.client.post("/auth/organization", json={"organization_id": other.organization_id})
    assert refused.status_code == 403
