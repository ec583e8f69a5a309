"""The local keystore on the control-plane database (SQLite and PostgreSQL): envelope encryption, tamper
detection, rotation while reading and writing, rewrap, retirement, and a wrong or missing master key."""

from __future__ import annotations

import base64
import os
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from control_plane.db.engine import database_url, make_engine
from control_plane.db.migrate import upgrade
from control_plane.secrets.errors import (
    SecretIntegrityError,
    SecretNotFoundError,
    SecretRequestRefusedError,
    SecretStoreUnavailableError,
)
from control_plane.secrets.local import LocalKeystore
from control_plane.secrets.master_key import key_file
from control_plane.secrets.models import SecretVersion
from settings import Settings
from tests.control_plane.secrets_support import places_holding
from tests.support.databases import Backend, create_postgres_database, drop_postgres_database


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    found = make_engine(database_url(settings))
    yield found
    found.dispose()


@pytest.fixture
def store(settings: Settings, engine: Engine) -> LocalKeystore:
    keystore = LocalKeystore(settings, engine)
    keystore.check()  # the backend's key file opens the keystore first (other tests bring wrong keys)
    return keystore


def a_scope() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def test_a_secret_round_trips_by_version_and_only_ciphertext_is_stored(
    store: LocalKeystore, engine: Engine, backend: Backend
) -> None:
    scope, value = a_scope(), f"sk-{uuid.uuid4().hex}{uuid.uuid4().hex}"
    assert store.put(scope, "openai", value) == 1
    assert store.put(scope, "openai", value + "-v2") == 2
    assert store.get(scope, "openai") == value + "-v2"
    assert store.get(scope, "openai", version=1) == value
    assert places_holding(engine, value, backend.data_dir) == []
    store.destroy(scope, "openai")
    with pytest.raises(SecretNotFoundError, match="no secret at openai"):
        store.get(scope, "openai")
    with pytest.raises(SecretNotFoundError, match="version 1 of openai"):
        store.get(scope, "openai", version=1)


def test_a_changed_or_moved_ciphertext_fails_its_integrity_check(store: LocalKeystore, engine: Engine) -> None:
    scope = a_scope()
    store.put(scope, "a", "first secret value")
    store.put(scope, "b", "second secret value")
    with Session(engine) as db:
        row = db.exec(select(SecretVersion).where(SecretVersion.scope == scope, SecretVersion.path == "a")).one()
        assert row.ciphertext is not None
        flipped = bytes([row.ciphertext[0], row.ciphertext[1] ^ 1]) + row.ciphertext[2:]
        tampered, original = flipped[:12] + bytes([flipped[12] ^ 0x80]) + flipped[13:], row.ciphertext
        row.ciphertext = tampered
        db.add(row)
        db.commit()
    with pytest.raises(SecretIntegrityError, match="the secret a v1 failed its integrity check"):
        store.get(scope, "a")
    # a valid ciphertext moved onto another row is refused too: each is bound to its scope, path and version
    with Session(engine) as db:
        db.exec(
            update(SecretVersion)
            .where(col(SecretVersion.scope) == scope, col(SecretVersion.path) == "b")
            .values(ciphertext=original)
        )
        db.commit()
    with pytest.raises(SecretIntegrityError):
        store.get(scope, "b")


def test_rotation_while_reading_and_writing_then_rewrap_and_retire(store: LocalKeystore) -> None:
    scope = a_scope()
    written = {f"old-{i}": f"old value number {i}" for i in range(5)}
    for path, value in written.items():
        store.put(scope, path, value)
    assert store.key_status(scope).current_version == 1
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader_and_writer(worker: int) -> None:
        count = 0
        try:
            while not stop.is_set():
                for path, value in written.items():
                    assert store.get(scope, path) == value
                store.put(scope, f"new-{worker}-{count}", f"value {worker}/{count}")
                count += 1
        except BaseException as error:  # surfaced by the main thread below
            errors.append(error)

    workers = [threading.Thread(target=reader_and_writer, args=(n,)) for n in range(2)]
    for worker in workers:
        worker.start()
    versions = []
    for _ in range(3):
        time.sleep(0.1)  # writes land under each key version in turn
        versions.append(store.rotate(scope))
    time.sleep(0.1)
    stop.set()
    for worker in workers:
        worker.join()
    assert errors == []
    assert versions == [2, 3, 4]
    status = store.key_status(scope)
    assert status.current_version == 4 and status.versions == [1, 2, 3, 4]
    assert status.secrets_by_version[1] >= 5 and len(status.secrets_by_version) >= 2  # old ones still on v1 …
    assert all(store.get(scope, path) == value for path, value in written.items())  # … and readable
    with pytest.raises(SecretRequestRefusedError, match="still use key version 3 or older: rewrap first"):
        store.retire(scope, 3)
    moved = store.rewrap(scope)
    assert moved == sum(count for version, count in status.secrets_by_version.items() if version < 4)
    assert store.key_status(scope).secrets_by_version == {4: sum(status.secrets_by_version.values())}
    store.retire(scope, 3)
    assert store.key_status(scope).versions == [4]
    assert all(store.get(scope, path) == value for path, value in written.items())
    with pytest.raises(SecretRequestRefusedError, match="is the current one"):
        store.retire(scope, 4)


def test_field_encryption_names_its_key_version_and_rewraps(store: LocalKeystore) -> None:
    scope = a_scope()
    token = store.encrypt_field(scope, "a card holder's name")
    assert token.startswith("alk:v1:") and "card" not in token
    assert store.decrypt_field(scope, token) == "a card holder's name"
    with pytest.raises(SecretIntegrityError):
        store.decrypt_field(a_scope(), token)  # bound to its scope
    store.rotate(scope)
    moved = store.rewrap_field(scope, token)
    assert moved.startswith("alk:v2:") and store.decrypt_field(scope, moved) == "a card holder's name"
    store.retire(scope, 1)
    with pytest.raises(SecretIntegrityError, match=r"key version 1 of .* is retired"):
        store.decrypt_field(scope, token)
    with pytest.raises(SecretIntegrityError, match="not a local-keystore field ciphertext"):
        store.decrypt_field(scope, "vault:v1:abc")


def test_the_generated_key_file_is_private(store: LocalKeystore, settings: Settings) -> None:
    path = key_file(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32


def test_a_wrong_master_key_fails_clearly_and_decrypts_nothing(
    store: LocalKeystore, settings: Settings, engine: Engine
) -> None:
    scope = a_scope()
    store.put(scope, "k", "the real secret")
    wrong = settings.model_copy(update={"secret_master_key": SecretStr(base64.b64encode(os.urandom(32)).decode())})
    impostor = LocalKeystore(wrong, engine)
    with pytest.raises(SecretStoreUnavailableError, match="AURALINK_SECRET_MASTER_KEY does not open this keystore"):
        impostor.check()
    with pytest.raises(SecretStoreUnavailableError, match="does not open this keystore"):
        impostor.get(scope, "k")
    with pytest.raises(SecretStoreUnavailableError):
        impostor.put(scope, "k", "would be unreadable")
    assert store.get(scope, "k") == "the real secret"  # nothing changed for the right key


@pytest.mark.parametrize(
    ("value", "message"),
    [("not base64!", "is not base64"), (base64.b64encode(b"short").decode(), "base64 of 32 bytes, not of 5")],
)
def test_a_malformed_master_key_is_named(settings: Settings, engine: Engine, value: str, message: str) -> None:
    bad = settings.model_copy(update={"secret_master_key": SecretStr(value)})
    with pytest.raises(SecretStoreUnavailableError, match=message):
        LocalKeystore(bad, engine).check()


def test_a_named_key_file_that_is_missing_is_not_generated(settings: Settings, engine: Engine) -> None:
    missing = settings.data_dir / f"nowhere-{uuid.uuid4().hex}" / "master.key"
    keystore = LocalKeystore(settings.model_copy(update={"secret_master_key_file": missing}), engine)
    with pytest.raises(SecretStoreUnavailableError, match=r"master key file .* does not exist"):
        keystore.check()
    assert not missing.exists()


@pytest.fixture
def own_database(backend: Backend, tmp_path: Path) -> Iterator[Settings]:
    """Settings naming a keystore database of this test's own (a master-key rotation re-wraps the sentinel that
    every other test's keystore opens)."""
    if backend.name == "sqlite":
        upgrade(f"sqlite:///{tmp_path / 'control_plane.db'}")
        yield Settings(data_dir=tmp_path)
        return
    url = create_postgres_database(f"_master_{uuid.uuid4().hex[:6]}")
    try:
        upgrade(url.replace("postgresql://", "postgresql+psycopg://", 1))
        yield Settings(data_dir=tmp_path, database_url=url)
    finally:
        drop_postgres_database(url.rpartition("/")[2])


def test_the_master_key_rotates_without_downtime(own_database: Settings) -> None:
    old, new = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    engine = make_engine(database_url(own_database))

    def replica(current: str, *previous: str) -> LocalKeystore:
        keys = {
            "secret_master_key": SecretStr(current),
            "secret_previous_master_keys": [SecretStr(p) for p in previous],
        }
        keystore = LocalKeystore(own_database.model_copy(update=keys), engine)
        keystore.check()
        return keystore

    try:
        scope = a_scope()
        replica(old).put(scope, "openai", "sk-stored-before-the-rotation")
        assert replica(old, new).get(scope, "openai") == "sk-stored-before-the-rotation"  # 1: replicas learn it
        rotating = replica(new, old)  # 2: the new key is current; the old one still opens what it wraps
        rotating.put(scope, "deepgram", "dg-stored-during-the-rotation")
        assert rotating.key_status(scope).wrapped_by_previous_master_key == 1
        assert rotating.rewrap(scope) == 0  # no data key moves: only the KEKs are re-wrapped
        assert rotating.key_status(scope).wrapped_by_previous_master_key == 0
        after = replica(new)  # 3: the old key is dropped
        assert [after.get(scope, name) for name in ("openai", "deepgram")] == [
            "sk-stored-before-the-rotation",
            "dg-stored-during-the-rotation",
        ]
        with pytest.raises(SecretStoreUnavailableError, match="does not open this keystore"):
            replica(old)
        with pytest.raises(SecretStoreUnavailableError, match=r"nor do the 1 previous master keys"):
            replica(base64.b64encode(os.urandom(32)).decode(), old)
    finally:
        engine.dispose()
