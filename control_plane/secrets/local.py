"""The local keystore: AES-GCM envelope encryption in the control-plane database (the embedded default).

Three layers: the master key (from the environment or a key file, never stored in the database) wraps each
scope's versioned key-encryption keys (KEKs, table ``secret_key``); the current KEK wraps a fresh data key per
secret version (table ``secret_version``); the data key seals the value. Rotation adds a KEK version that new
writes use while every older version still decrypts; :meth:`LocalKeystore.rewrap` moves data keys to the
current version; a version goes only when nothing uses it.

The master key rotates too: ``secret_previous_master_keys`` still open KEKs (wrapping nothing new), and
:meth:`LocalKeystore.rewrap` re-wraps those KEKs under the current master key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from control_plane.db.types import utcnow
from control_plane.secrets import envelope
from control_plane.secrets.errors import (
    SecretIntegrityError,
    SecretNotFoundError,
    SecretRequestRefusedError,
    SecretStoreUnavailableError,
)
from control_plane.secrets.master_key import load_master_key, load_previous_master_keys, master_key_source
from control_plane.secrets.models import SecretKey, SecretVersion
from control_plane.secrets.store import KeyStatus
from settings import ControlPlaneSettings

SENTINEL_SCOPE = "_keystore"
"""A KEK made on first use only to tell, at start, whether the master key is the one the keystore was made with."""
_WRITE_ATTEMPTS = 5
T = TypeVar("T")


class LocalKeystore:
    """:class:`~control_plane.secrets.store.SecretStore` over the control-plane database."""

    backend = "local"

    def __init__(self, settings: ControlPlaneSettings, engine: Engine) -> None:
        self._settings = settings
        self._engine = engine
        self._master: bytes | None = None
        self._previous: list[bytes] = []
        self._keks: dict[tuple[str, int], bytes] = {}

    def describe(self) -> str:
        return f"the local keystore (master key from {master_key_source(self._settings)})"

    # --- readiness and keys -------------------------------------------------------------------------------
    def check(self) -> None:
        master = self._master_key()
        self._verify_master_key(master)  # again each time: the database may have been restored or replaced
        probe = envelope.new_key()
        sealed = envelope.seal(master, probe, "readiness")
        if envelope.open_sealed(master, sealed, "readiness", "the readiness probe") != probe:
            raise SecretStoreUnavailableError("the local keystore's round trip returned something else")

    def _master_key(self) -> bytes:
        if self._master is None:
            key = load_master_key(self._settings)
            self._previous = load_previous_master_keys(self._settings)
            self._verify_master_key(key)
            self._master = key
        return self._master

    def _verify_master_key(self, key: bytes) -> None:
        def make_sentinel(db: Session) -> None:
            if _kek_row(db, SENTINEL_SCOPE, 1) is None:
                db.add(SecretKey(scope=SENTINEL_SCOPE, version=1, wrapped_key=_wrap_kek(key, SENTINEL_SCOPE, 1)))
                db.commit()

        self._retrying(make_sentinel)
        with self._session() as db:
            sentinel = _kek_row(db, SENTINEL_SCOPE, 1)
        assert sentinel is not None
        try:
            self._open_kek(sentinel, key)
        except SecretIntegrityError:
            also = f" (nor do the {len(self._previous)} previous master keys)" if self._previous else ""
            raise SecretStoreUnavailableError(
                f"the master key from {master_key_source(self._settings)}{also} does not open this keystore: it is"
                " not the key its secrets were stored with. Restore that key; nothing was decrypted"
            ) from None

    def _kek(self, db: Session, scope: str, version: int) -> bytes:
        cached = self._keks.get((scope, version))
        if cached is not None:
            return cached
        row = _kek_row(db, scope, version)
        if row is None:
            raise SecretIntegrityError(f"key version {version} of {scope} is retired or missing")
        key = self._open_kek(row, self._master_key())
        self._keks[(scope, version)] = key
        return key

    def _open_kek(self, row: SecretKey, master: bytes) -> bytes:
        """``row``'s KEK, opened by the current master key or, during a master-key rotation, a previous one."""
        for candidate in (master, *self._previous):
            try:
                return _unwrap_kek(candidate, row)
            except SecretIntegrityError:
                continue
        raise SecretIntegrityError(f"key version {row.version} of {row.scope} opens with none of the master keys")

    def _rewrap_keks(self, scope: str) -> int:
        """Re-wrap ``scope``'s KEKs that a previous master key wraps under the current one; returns how many."""
        master = self._master_key()
        if not self._previous:
            return 0
        moved = 0
        with self._session() as db:
            for row in db.exec(select(SecretKey).where(SecretKey.scope == scope)).all():
                if _opens(master, row):
                    continue
                row.wrapped_key = envelope.seal(master, self._open_kek(row, master), _kek_context(row))
                db.add(row)
                moved += 1
            db.commit()
        return moved

    def _on_previous_master(self, db: Session, scope: str) -> int:
        master = self._master_key()
        return sum(not _opens(master, row) for row in db.exec(select(SecretKey).where(SecretKey.scope == scope)))

    def _current_kek(self, scope: str) -> tuple[int, bytes]:
        master = self._master_key()

        def current(db: Session) -> int:
            newest = _newest_kek_version(db, scope)
            if newest is None:
                db.add(SecretKey(scope=scope, version=1, wrapped_key=_wrap_kek(master, scope, 1)))
                db.commit()
                newest = 1
            return newest

        version = self._retrying(current)
        with self._session() as db:
            return version, self._kek(db, scope, version)

    # --- secrets --------------------------------------------------------------------------------------------
    def put(self, scope: str, path: str, value: str) -> int:
        key_version, kek = self._current_kek(scope)

        def write(db: Session) -> int:
            latest = db.exec(
                select(func.max(SecretVersion.version)).where(SecretVersion.scope == scope, SecretVersion.path == path)
            ).one()
            version = (latest or 0) + 1
            data_key = envelope.new_key()
            row = SecretVersion(
                scope=scope,
                path=path,
                version=version,
                key_version=key_version,
                wrapped_data_key=envelope.seal(kek, data_key, _dek_context(scope, path, version)),
                ciphertext=envelope.seal(data_key, value.encode(), _value_context(scope, path, version)),
            )
            db.add(row)
            db.commit()
            return version

        return self._retrying(write)

    def get(self, scope: str, path: str, version: int | None = None) -> str:
        with self._session() as db:
            query = select(SecretVersion).where(SecretVersion.scope == scope, SecretVersion.path == path)
            if version is not None:
                query = query.where(SecretVersion.version == version)
            row = db.exec(query.order_by(col(SecretVersion.version).desc()).limit(1)).first()
            if row is None or row.ciphertext is None or row.wrapped_data_key is None:
                which = f"version {version} of " if version is not None else ""
                raise SecretNotFoundError(f"no secret at {which}{path} in {scope}")
            kek = self._kek(db, scope, row.key_version)
        context = _dek_context(scope, path, row.version)
        data_key = envelope.open_sealed(kek, row.wrapped_data_key, context, f"the data key of {path} v{row.version}")
        value_context = _value_context(scope, path, row.version)
        what = f"the secret {path} v{row.version}"
        return envelope.open_sealed(data_key, row.ciphertext, value_context, what).decode()

    def destroy(self, scope: str, path: str) -> None:
        with self._session() as db:
            db.exec(
                update(SecretVersion)
                .where(col(SecretVersion.scope) == scope, col(SecretVersion.path) == path)
                .where(col(SecretVersion.destroyed_at).is_(None))
                .values(wrapped_data_key=None, ciphertext=None, destroyed_at=utcnow())
            )
            db.commit()

    # --- fields --------------------------------------------------------------------------------------------
    def encrypt_field(self, scope: str, plaintext: str) -> str:
        key_version, kek = self._current_kek(scope)
        data_key = envelope.new_key()
        wrapped = envelope.seal(kek, data_key, _field_dek_context(scope))
        return envelope.field_token(key_version, wrapped, envelope.seal(data_key, plaintext.encode(), f"field:{scope}"))

    def decrypt_field(self, scope: str, ciphertext: str) -> str:
        data_key, sealed = self._field_data_key(scope, ciphertext)
        return envelope.open_sealed(data_key, sealed, f"field:{scope}", "the field ciphertext").decode()

    def rewrap_field(self, scope: str, ciphertext: str) -> str:
        data_key, sealed = self._field_data_key(scope, ciphertext)
        key_version, kek = self._current_kek(scope)
        return envelope.field_token(key_version, envelope.seal(kek, data_key, _field_dek_context(scope)), sealed)

    def _field_data_key(self, scope: str, ciphertext: str) -> tuple[bytes, bytes]:
        key_version, wrapped, sealed = envelope.parse_field_token(ciphertext)
        with self._session() as db:
            kek = self._kek(db, scope, key_version)
        return envelope.open_sealed(kek, wrapped, _field_dek_context(scope), "the field's data key"), sealed

    # --- rotation ------------------------------------------------------------------------------------------
    def rotate(self, scope: str) -> int:
        master = self._master_key()

        def add_version(db: Session) -> int:
            version = (_newest_kek_version(db, scope) or 0) + 1
            db.add(SecretKey(scope=scope, version=version, wrapped_key=_wrap_kek(master, scope, version)))
            db.commit()
            return version

        return self._retrying(add_version)

    def rewrap(self, scope: str) -> int:
        self._rewrap_keks(SENTINEL_SCOPE)
        self._rewrap_keks(scope)
        key_version, kek = self._current_kek(scope)
        moved = 0
        with self._session() as db:
            rows = db.exec(
                select(SecretVersion)
                .where(SecretVersion.scope == scope, col(SecretVersion.key_version) < key_version)
                .where(col(SecretVersion.wrapped_data_key).is_not(None))
            ).all()
            for row in rows:
                assert row.wrapped_data_key is not None
                context = _dek_context(scope, row.path, row.version)
                old = self._kek(db, scope, row.key_version)
                data_key = envelope.open_sealed(old, row.wrapped_data_key, context, f"the data key of {row.path}")
                row.wrapped_data_key = envelope.seal(kek, data_key, context)
                row.key_version = key_version
                db.add(row)
                moved += 1
            db.commit()
        return moved

    def retire(self, scope: str, version: int) -> None:
        with self._session() as db:
            if _kek_row(db, scope, version) is None:
                raise SecretNotFoundError(f"key version {version} of {scope} does not exist (or is already retired)")
            newest = _newest_kek_version(db, scope)
            if newest is None or version >= newest:
                raise SecretRequestRefusedError(
                    f"key version {version} of {scope} is the current one (or there is none): rotate first"
                )
            in_use = _secrets_by_key_version(db, scope)
            still = sum(count for used, count in in_use.items() if used <= version)
            if still:
                raise SecretRequestRefusedError(
                    f"{still} stored secret version(s) of {scope} still use key version {version} or older:"
                    " rewrap first"
                )
            db.exec(delete(SecretKey).where(col(SecretKey.scope) == scope, col(SecretKey.version) <= version))
            db.commit()
        self._keks = {k: v for k, v in self._keks.items() if not (k[0] == scope and k[1] <= version)}

    def key_status(self, scope: str) -> KeyStatus:
        with self._session() as db:
            query = select(SecretKey.version).where(SecretKey.scope == scope).order_by(col(SecretKey.version))
            versions = list(db.exec(query).all())
            return KeyStatus(
                scope=scope,
                current_version=versions[-1] if versions else None,
                versions=versions,
                min_decryption_version=versions[0] if versions else 0,
                secrets_by_version=_secrets_by_key_version(db, scope),
                wrapped_by_previous_master_key=self._on_previous_master(db, scope),
            )

    def scopes(self) -> list[str]:
        with self._session() as db:
            found = db.exec(select(SecretKey.scope).where(SecretKey.scope != SENTINEL_SCOPE).distinct()).all()
        return sorted(found)

    # --- plumbing ------------------------------------------------------------------------------------------
    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    def _retrying(self, work: Callable[[Session], T]) -> T:
        """``work`` in a fresh transaction, again if a concurrent writer took the same version number."""
        for attempt in range(_WRITE_ATTEMPTS):
            with self._session() as db:
                try:
                    return work(db)
                except IntegrityError:
                    db.rollback()
                    if attempt == _WRITE_ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")


def _kek_row(db: Session, scope: str, version: int) -> SecretKey | None:
    return db.exec(select(SecretKey).where(SecretKey.scope == scope, SecretKey.version == version)).first()


def _newest_kek_version(db: Session, scope: str) -> int | None:
    return db.exec(select(func.max(SecretKey.version)).where(SecretKey.scope == scope)).one()


def _secrets_by_key_version(db: Session, scope: str) -> dict[int, int]:
    rows = db.exec(
        select(SecretVersion.key_version, func.count())
        .where(SecretVersion.scope == scope, col(SecretVersion.destroyed_at).is_(None))
        .group_by(col(SecretVersion.key_version))
    ).all()
    return dict(rows)


def _wrap_kek(master: bytes, scope: str, version: int) -> bytes:
    return envelope.seal(master, envelope.new_key(), f"kek:{scope}:{version}")


def _kek_context(row: SecretKey) -> str:
    return f"kek:{row.scope}:{row.version}"


def _unwrap_kek(master: bytes, row: SecretKey) -> bytes:
    what = f"key version {row.version} of {row.scope}"
    return envelope.open_sealed(master, row.wrapped_key, _kek_context(row), what)


def _opens(master: bytes, row: SecretKey) -> bool:
    try:
        _unwrap_kek(master, row)
    except SecretIntegrityError:
        return False
    return True


def _dek_context(scope: str, path: str, version: int) -> str:
    return f"dek:{scope}:{path}:{version}"


def _value_context(scope: str, path: str, version: int) -> str:
    return f"secret:{scope}:{path}:{version}"


def _field_dek_context(scope: str) -> str:
    return f"field-dek:{scope}"
