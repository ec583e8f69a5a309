"""A test double of HashiCorp Vault's HTTP API, for the ``hvac`` secret backend's tests.

No Vault (or OpenBao) server installs on these machines: Debian, PyPI and npm carry only clients. So the
tests run hvac against this small Litestar app, which follows Vault's HTTP API documentation
(developer.hashicorp.com/vault/api-docs) for exactly the endpoints AuraLink's backend calls, and nothing more:

* ``GET /v1/sys/health`` (unauthenticated; ``sealed`` and 503 while sealed);
* ``GET /v1/auth/token/lookup-self``;
* KV v2 on the mounts given: ``/v1/{mount}/data/{path}`` GET (``?version=``) / POST (``options.cas``) / DELETE,
  ``/v1/{mount}/metadata/{path}`` GET / DELETE, and ``delete``, ``undelete``, ``destroy`` of versions;
* transit on the mounts given: ``/v1/{mount}/keys/{name}`` create / read, ``…/rotate``, ``…/config``
  (``min_decryption_version``, ``min_encryption_version``), ``encrypt`` (creating the key on first use, as
  Vault does), ``decrypt`` and ``rewrap``, with real AES-256-GCM and ``vault:v<N>:<base64(nonce‖ciphertext)>``.

Every other route answers 404 as Vault does (``{"errors": [...]}``). Requests need ``X-Vault-Token`` (else
403 ``{"errors":["permission denied"]}``); :meth:`VaultApiServer.seal` makes every route answer 503
``{"errors":["Vault is sealed"]}`` (fault injection). It binds 127.0.0.1 on a free port and keeps its data in
memory. It is not Vault: no policies, leases, namespaces, audit devices, or storage.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import uvicorn
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar import Litestar, Request, Response, route
from litestar.datastructures import State
from litestar.params import PathParameter

Body = dict[str, Any]
PathStr = Annotated[str, PathParameter()]
_CIPHERTEXT = re.compile(r"^vault:v(\d+):(.+)$")


@dataclass
class KvVersion:
    data: Body | None
    created_time: str
    deletion_time: str = ""
    destroyed: bool = False

    def metadata(self, version: int) -> Body:
        return {
            "created_time": self.created_time,
            "custom_metadata": None,
            "deletion_time": self.deletion_time,
            "destroyed": self.destroyed,
            "version": version,
        }


@dataclass
class KvSecret:
    created_time: str
    versions: dict[int, KvVersion] = field(default_factory=dict)

    @property
    def current_version(self) -> int:
        return max(self.versions, default=0)


@dataclass
class TransitKey:
    name: str
    keys: dict[int, bytes] = field(default_factory=dict)
    created: dict[int, int] = field(default_factory=dict)
    min_decryption_version: int = 1
    min_encryption_version: int = 0

    @property
    def latest_version(self) -> int:
        return max(self.keys)

    def add_version(self) -> None:
        version = len(self.keys) + 1
        self.keys[version] = AESGCM.generate_key(bit_length=256)
        self.created[version] = int(time.time())

    def describe(self) -> Body:
        return {
            "name": self.name,
            "type": "aes256-gcm96",
            "keys": {str(v): t for v, t in self.created.items() if v >= self.min_decryption_version},
            "latest_version": self.latest_version,
            "min_available_version": 0,
            "min_decryption_version": self.min_decryption_version,
            "min_encryption_version": self.min_encryption_version,
            "deletion_allowed": False,
            "derived": False,
            "exportable": False,
            "allow_plaintext_backup": False,
            "supports_encryption": True,
            "supports_decryption": True,
            "supports_derivation": True,
            "supports_signing": False,
            "auto_rotate_period": 0,
        }


class VaultError(Exception):
    def __init__(self, status: int, *errors: str, body: Body | None = None) -> None:
        super().__init__(status, errors)
        self.status = status
        self.body = body if body is not None else {"errors": list(errors)}


@dataclass
class VaultData:
    token: str
    kv_mounts: set[str]
    transit_mounts: set[str]
    sealed: bool = False
    kv: dict[tuple[str, str], KvSecret] = field(default_factory=dict)
    transit: dict[tuple[str, str], TransitKey] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def _envelope(data: Body) -> Body:
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": None,
    }


def _no_content() -> Response[None]:
    return Response(None, status_code=204)


def _vault(state: State) -> VaultData:
    found = state.vault
    assert isinstance(found, VaultData)
    return found


async def _body(request: Request[Any, Any, Any]) -> Body:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise VaultError(400, "failed to parse JSON input") from None
    if not isinstance(body, dict):
        raise VaultError(400, "failed to parse JSON input: not an object")
    return body


def _guard(request: Request[Any, Any, Any], vault: VaultData) -> None:
    """Vault's order: a sealed Vault refuses everything; then the token must be the one issued."""
    vault.requests.append(f"{request.method} {request.url.path}")
    if vault.sealed:
        raise VaultError(503, "Vault is sealed")
    offered = request.headers.get("x-vault-token", "")
    if not hmac.compare_digest(offered.encode(), vault.token.encode()):
        raise VaultError(403, "permission denied")


def _mount(vault: VaultData, mount: str, kind: str, path: str) -> None:
    mounts = vault.kv_mounts if kind == "kv" else vault.transit_mounts
    if mount not in mounts:
        raise VaultError(404, f'no handler for route "{mount}/{path}". route entry not found.')


# --- sys and auth ---------------------------------------------------------------------------------------


@route("/v1/sys/health", http_method=["GET", "HEAD"])
async def health(state: State) -> Response[Body]:
    vault = _vault(state)
    body = {
        "initialized": True,
        "sealed": vault.sealed,
        "standby": vault.sealed,
        "performance_standby": False,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": int(time.time()),
        "version": "1.15.0 (AuraLink test double)",
        "cluster_name": "auralink-test",
    }
    return Response(body, status_code=503 if vault.sealed else 200)


@route("/v1/auth/token/lookup-self", http_method=["GET"])
async def lookup_self(request: Request[Any, Any, Any], state: State) -> Body:
    _guard(request, _vault(state))
    return _envelope({"accessor": "test-accessor", "display_name": "token", "policies": ["auralink"], "ttl": 0})


# --- KV v2 ----------------------------------------------------------------------------------------------


@route("/v1/{mount:str}/data/{path:path}", http_method=["GET", "POST", "DELETE"], status_code=200)
async def kv_data(request: Request[Any, Any, Any], state: State, mount: PathStr, path: PathStr) -> Response[Any]:
    vault = _vault(state)
    _guard(request, vault)
    _mount(vault, mount, "kv", f"data{path}")
    key = (mount, path.strip("/"))
    if request.method == "POST":
        return Response(_envelope(_kv_write(vault, key, await _body(request))))
    secret = vault.kv.get(key)
    if secret is None or not secret.versions:
        raise VaultError(404)
    if request.method == "DELETE":
        secret.versions[secret.current_version].deletion_time = _now()
        return _no_content()
    wanted = int(request.query_params.get("version") or 0) or secret.current_version
    found = secret.versions.get(wanted)
    if found is None:
        raise VaultError(404)
    payload = {"data": found.data, "metadata": found.metadata(wanted)}
    if found.deletion_time or found.destroyed:
        raise VaultError(404, body={"data": {"data": None, "metadata": found.metadata(wanted)}})
    return Response(_envelope(payload))


def _kv_write(vault: VaultData, key: tuple[str, str], body: Body) -> Body:
    data = body.get("data")
    if not isinstance(data, dict):
        raise VaultError(400, "no data provided")
    secret = vault.kv.setdefault(key, KvSecret(created_time=_now()))
    cas = (body.get("options") or {}).get("cas")
    if cas is not None and int(cas) != secret.current_version:
        raise VaultError(400, "check-and-set parameter did not match the current version")
    version = secret.current_version + 1
    secret.versions[version] = KvVersion(data=data, created_time=_now())
    return secret.versions[version].metadata(version)


@route("/v1/{mount:str}/metadata/{path:path}", http_method=["GET", "DELETE"], status_code=200)
async def kv_metadata(request: Request[Any, Any, Any], state: State, mount: PathStr, path: PathStr) -> Response[Any]:
    vault = _vault(state)
    _guard(request, vault)
    _mount(vault, mount, "kv", f"metadata{path}")
    key = (mount, path.strip("/"))
    if request.method == "DELETE":
        vault.kv.pop(key, None)
        return _no_content()
    secret = vault.kv.get(key)
    if secret is None:
        raise VaultError(404)
    versions = {str(v): {k: m for k, m in s.metadata(v).items() if k != "version"} for v, s in secret.versions.items()}
    return Response(
        _envelope(
            {
                "cas_required": False,
                "created_time": secret.created_time,
                "current_version": secret.current_version,
                "custom_metadata": None,
                "delete_version_after": "0s",
                "max_versions": 0,
                "oldest_version": 0,
                "updated_time": secret.versions[secret.current_version].created_time,
                "versions": versions,
            }
        )
    )


@route("/v1/{mount:str}/{action:str}/{path:path}", http_method=["POST"], status_code=200)
async def kv_versions(
    request: Request[Any, Any, Any], state: State, mount: PathStr, action: PathStr, path: PathStr
) -> Response[Any]:
    """``delete``, ``undelete`` and ``destroy`` of KV v2 versions; on a transit mount, encrypt/decrypt/rewrap."""
    vault = _vault(state)
    _guard(request, vault)
    if mount in vault.transit_mounts and action in {"encrypt", "decrypt", "rewrap"}:
        return Response(_envelope(_transit(vault, mount, action, path.strip("/"), await _body(request))))
    _mount(vault, mount, "kv", f"{action}{path}")
    if action not in {"delete", "undelete", "destroy"}:
        raise VaultError(404, f'no handler for route "{mount}/{action}{path}". route entry not found.')
    secret = vault.kv.get((mount, path.strip("/")))
    versions = (await _body(request)).get("versions")
    if not isinstance(versions, list) or not versions:
        raise VaultError(400, "no version number provided")
    for number in versions:
        found = secret.versions.get(int(number)) if secret else None
        if found is None:
            continue
        if action == "delete":
            found.deletion_time = found.deletion_time or _now()
        elif action == "undelete" and not found.destroyed:
            found.deletion_time = ""
        elif action == "destroy":
            found.destroyed, found.data = True, None
    return _no_content()


# --- transit --------------------------------------------------------------------------------------------


@route("/v1/{mount:str}/keys/{name:str}", http_method=["GET", "POST"], status_code=200)
async def transit_key(request: Request[Any, Any, Any], state: State, mount: PathStr, name: PathStr) -> Response[Any]:
    vault = _vault(state)
    _guard(request, vault)
    _mount(vault, mount, "transit", f"keys/{name}")
    if request.method == "GET":
        return Response(_envelope(_key(vault, mount, name).describe()))
    key_type = (await _body(request)).get("type", "aes256-gcm96")
    if key_type != "aes256-gcm96":
        raise VaultError(400, f"unsupported key type {key_type} (this test double has aes256-gcm96 only)")
    _create_key(vault, mount, name)
    return _no_content()


@route("/v1/{mount:str}/keys/{name:str}/{action:str}", http_method=["POST"], status_code=200)
async def transit_key_action(
    request: Request[Any, Any, Any], state: State, mount: PathStr, name: PathStr, action: PathStr
) -> Response[Any]:
    vault = _vault(state)
    _guard(request, vault)
    _mount(vault, mount, "transit", f"keys/{name}/{action}")
    key = _key(vault, mount, name)
    if action == "rotate":
        key.add_version()
    elif action == "config":
        _configure(key, await _body(request))
    else:
        raise VaultError(404, f'no handler for route "{mount}/keys/{name}/{action}". route entry not found.')
    return Response(_envelope(key.describe()))


def _configure(key: TransitKey, body: Body) -> None:
    minimum = int(body.get("min_decryption_version", key.min_decryption_version))
    encryption = int(body.get("min_encryption_version", key.min_encryption_version))
    if not 1 <= minimum <= key.latest_version:
        raise VaultError(400, "cannot set min decryption version greater than the latest version or below 1")
    if encryption and (encryption > key.latest_version or encryption < minimum):
        raise VaultError(400, "min encryption version must be between min decryption version and latest version")
    key.min_decryption_version, key.min_encryption_version = minimum, encryption


def _create_key(vault: VaultData, mount: str, name: str) -> TransitKey:
    found = vault.transit.get((mount, name))
    if found is not None:
        return found
    key = TransitKey(name)
    key.add_version()
    vault.transit[(mount, name)] = key
    return key


def _key(vault: VaultData, mount: str, name: str) -> TransitKey:
    key = vault.transit.get((mount, name))
    if key is None:
        raise VaultError(404)
    return key


def _transit(vault: VaultData, mount: str, action: str, name: str, body: Body) -> Body:
    if action == "encrypt":  # Vault's encrypt creates a missing key ("upsert")
        return _encrypt(_create_key(vault, mount, name), _plaintext(body), body.get("key_version"))
    key = vault.transit.get((mount, name))
    if key is None:
        raise VaultError(400, "encryption key not found")
    plaintext = _decrypt(key, body.get("ciphertext"))
    if action == "decrypt":
        return {"plaintext": base64.b64encode(plaintext).decode()}
    return _encrypt(key, plaintext, body.get("key_version"))


def _plaintext(body: Body) -> bytes:
    encoded = body.get("plaintext")
    if not isinstance(encoded, str):
        raise VaultError(400, "missing plaintext to encrypt")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise VaultError(400, "failed to base64-decode plaintext") from None


def _encrypt(key: TransitKey, plaintext: bytes, wanted: Any) -> Body:
    version = int(wanted or 0) or key.latest_version
    if version not in key.keys or version < max(key.min_encryption_version, key.min_decryption_version):
        raise VaultError(400, "requested version for encryption is not allowed")
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(key.keys[version]).encrypt(nonce, plaintext, None)
    return {"ciphertext": f"vault:v{version}:{base64.b64encode(sealed).decode()}", "key_version": version}


def _decrypt(key: TransitKey, ciphertext: Any) -> bytes:
    match = _CIPHERTEXT.match(ciphertext) if isinstance(ciphertext, str) else None
    if match is None:
        raise VaultError(400, "invalid ciphertext: no prefix")
    version = int(match.group(1))
    if version < key.min_decryption_version:
        raise VaultError(400, "ciphertext or signature version is disallowed by policy (too old)")
    if version not in key.keys:
        raise VaultError(400, "invalid ciphertext: version is too new")
    try:
        raw = base64.b64decode(match.group(2), validate=True)
        return AESGCM(key.keys[version]).decrypt(raw[:12], raw[12:], None)
    except (binascii.Error, ValueError, InvalidTag):
        raise VaultError(400, "cipher: message authentication failed") from None


def _vault_error(_: Request[Any, Any, Any], error: VaultError) -> Response[Body]:
    return Response(error.body, status_code=error.status)


def _unknown_route(request: Request[Any, Any, Any], _: Exception) -> Response[Body]:
    return Response({"errors": [f'no handler for route "{request.url.path}". route entry not found.']}, status_code=404)


class VaultApiServer:
    """The test double on 127.0.0.1 (a free port), in a background thread; :meth:`seal` injects the fault."""

    def __init__(
        self, token: str, kv_mounts: tuple[str, ...] = ("secret",), transit_mounts: tuple[str, ...] = ("transit",)
    ):
        self.data = VaultData(token, set(kv_mounts), set(transit_mounts))
        app = Litestar(
            route_handlers=[health, lookup_self, kv_data, kv_metadata, kv_versions, transit_key, transit_key_action],
            state=State({"vault": self.data}),
            exception_handlers={VaultError: _vault_error, 404: _unknown_route, 405: _unknown_route},
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="vault-api-server", daemon=True)
        self.url = ""

    def start(self) -> VaultApiServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Vault API test server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def seal(self) -> None:
        self.data.sealed = True

    def unseal(self) -> None:
        self.data.sealed = False
