"""The control plane's error tree: 4xx for the client's errors, 5xx for upstream ones, HTTP only at the edge."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

import control_plane
from control_plane import domain_errors
from control_plane.domain_errors import ClientError, ControlPlaneError, Internal, UpstreamError
from control_plane.errors import EXCEPTION_HANDLERS, STATUS, status_of
from control_plane.secrets.errors import (
    SecretIntegrityError,
    SecretNotFoundError,
    SecretRequestRefusedError,
    SecretStoreError,
    SecretStoreUnavailableError,
    as_domain_error,
)

PACKAGE = Path(control_plane.__file__).parent
HTTP_LAYER = {"app.py", "plugins.py", "routing.py", "errors.py", "context.py"} | {
    "auth/guards.py",
    "auth/middleware.py",
}
"""The modules (besides every ``controller.py``) that speak HTTP and so may import Litestar."""


def _tree() -> list[type[ControlPlaneError]]:
    found: list[type[ControlPlaneError]] = []
    pending: list[type[ControlPlaneError]] = [ControlPlaneError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _import_all() -> None:
    """Import every module of the package, so that the tree holds every subclass the services define."""
    import importlib

    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        importlib.import_module(".".join(p for p in relative.parts if p != "__init__"))


def test_every_client_error_is_a_4xx_and_every_upstream_error_a_5xx() -> None:
    _import_all()
    tree = _tree()
    assert len(tree) > len(STATUS)  # the services' own subclasses were found too
    for cls in tree:
        if cls is ControlPlaneError:
            continue
        assert issubclass(cls, ClientError | UpstreamError | Internal), (
            f"{cls.__qualname__} is neither a client, an upstream nor an internal error"
        )
        status = status_of(cls)
        if issubclass(cls, Internal):
            assert status == 500
        elif issubclass(cls, ClientError):
            assert 400 <= status < 500, f"{cls.__qualname__} is a client error but answers {status}"
        else:
            assert 500 <= status < 600, f"{cls.__qualname__} is an upstream error but answers {status}"


def test_the_tree_holds_no_status_the_mapping_does() -> None:
    _import_all()
    assert [cls.__qualname__ for cls in _tree() if hasattr(cls, "status_code")] == []
    assert not _imports_litestar(Path(domain_errors.__file__))


@pytest.mark.parametrize(
    ("error", "status", "headers"),
    [
        (domain_errors.InvalidInput("period must be a month"), 400, {}),
        (domain_errors.Unprocessable("the pipeline is invalid", extra={"problems": ["a:1:1: x"]}), 422, {}),
        (domain_errors.Unauthenticated("wrong password"), 401, {}),
        (domain_errors.PaymentRequired("the card was declined"), 402, {}),
        (domain_errors.Forbidden("a viewer cannot"), 403, {}),
        (domain_errors.NotFound("user 7 not found"), 404, {}),
        (domain_errors.Conflict("already released"), 409, {}),
        (domain_errors.Gone("no longer kept"), 410, {}),
        (domain_errors.TooManyRequests("slow down", retry_after_s=1.2), 429, {"retry-after": "2"}),
        (domain_errors.UpstreamFailed("Stripe failed", retry_after_s=30), 502, {"retry-after": "30"}),
        (domain_errors.UpstreamUnavailable("Stripe is rate limiting us", retry_after_s=60), 503, {"retry-after": "60"}),
        (domain_errors.NotConfigured("billing is not configured"), 503, {}),
        (domain_errors.Internal("the ciphertext does not authenticate; nothing was returned"), 500, {}),
    ],
)
def test_each_error_answers_its_status_detail_and_headers(
    error: ControlPlaneError, status: int, headers: dict[str, str]
) -> None:
    @get("/", sync_to_thread=False)
    def fail() -> None:
        raise error

    with TestClient(Litestar([fail], exception_handlers=EXCEPTION_HANDLERS)) as client:
        response = client.get("/")
    assert response.status_code == status
    body = {"status_code": status, "detail": str(error)}
    if error.extra:
        body["extra"] = error.extra
    assert response.json() == body
    for name, value in headers.items():
        assert response.headers[name] == value
    if not headers:
        assert "retry-after" not in response.headers


def _imports_litestar(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "litestar" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "litestar":
            return True
    return False


def test_no_service_job_or_store_imports_litestar() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if path.name == "controller.py" or relative in HTTP_LAYER:
            continue
        if _imports_litestar(path):
            offenders.append(relative)
    assert offenders == [], f"only controllers and the HTTP layer may import litestar: {offenders}"


def test_the_check_finds_a_litestar_import(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text("def f():\n    from litestar.exceptions import NotFoundException\n")
    assert _imports_litestar(module)


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (SecretStoreUnavailableError("Vault is sealed", retry_after_s=7), 503, "Vault is sealed; nothing was stored"),
        (SecretNotFoundError("no secret at x"), 404, "no secret at x"),
        (SecretRequestRefusedError("rotate first"), 409, "rotate first"),
        (SecretIntegrityError("the ciphertext is truncated"), 500, "the ciphertext is truncated; nothing was returned"),
        (SecretStoreError("Vault refused"), 502, "the secret store failed: Vault refused"),
    ],
)
def test_the_secret_stores_errors_answer_as_the_domain_errors_they_stand_for(
    error: SecretStoreError, status: int, detail: str
) -> None:
    answer = as_domain_error(error)
    assert status_of(type(answer)) == status and answer.message.startswith(detail)
    if isinstance(error, SecretStoreUnavailableError):
        assert answer.headers == {"Retry-After": "7"}


PLUGIN_FACTORIES = {"billing/job.py", "secrets/plugin.py"}
"""Modules that build a ``PeriodicJobPlugin`` for the app (and so load Litestar through ``plugins.py``)."""


def test_no_service_job_or_store_loads_litestar_even_indirectly() -> None:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if path.name == "controller.py" or relative in HTTP_LAYER | PLUGIN_FACTORIES or "migrations/" in relative:
            continue
        modules.append("control_plane." + relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__"))
    program = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\nprint('litestar' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120)
    assert loaded.stdout.strip() == "False", "a service, job or store imports something that imports litestar"
