"""Packaged models: found where their packages put them, joined once, verified, and clear when broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.speech import models
from pipeline.speech.models import BASE_SHA256, ModelError, catalogue, resolve_model, verify_model
from pipeline.speech.whisper import WhisperEngine, load_whisper


def test_catalogue_lists_the_packaged_models_with_where_and_how_big(tmp_path: Path) -> None:
    entries = {entry.name: entry for entry in catalogue(tmp_path)}
    tiny = entries["tiny.en"]
    assert tiny.status == "ready" and tiny.path is not None and (tiny.path / "model.bin").is_file()
    assert tiny.size_bytes > 70_000_000 and tiny.languages == "en"
    assert entries["base"].status == "needs joining" and entries["base"].size_bytes == models.BASE_SIZE


@pytest.mark.slow
def test_base_is_joined_once_with_its_checksum_and_progress(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    path = resolve_model("base", tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "whisper-base"
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert seen[-1] == (models.BASE_SIZE, models.BASE_SIZE)
    assert models.sha256_of(path / "model.bin") == BASE_SHA256
    mtime = (path / "model.bin").stat().st_mtime_ns
    assert resolve_model("base", tmp_path) == path and (path / "model.bin").stat().st_mtime_ns == mtime
    entry = next(e for e in catalogue(tmp_path) if e.name == "base")
    assert entry.status == "ready" and verify_model(entry) == "files present, sha256 matches"
    # corrupt it: verify names the file and the fix
    with (path / "model.bin").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0" * 16)
    with pytest.raises(ModelError, match=r"model\.bin: checksum .* delete .*whisper-base"):
        verify_model(entry)


def test_a_local_model_directory_is_used_and_an_incomplete_one_named(tmp_path: Path, tiny: WhisperEngine) -> None:
    copy = tmp_path / "my-model"
    shutil.copytree(tiny.path, copy)
    assert resolve_model(str(copy), tmp_path) == copy
    (copy / "vocabulary.txt").unlink()
    with pytest.raises(ModelError, match=r"my-model: incomplete model, missing vocabulary\.txt; convert one"):
        resolve_model(str(copy), tmp_path)
    with pytest.raises(ModelError, match=r"neither a packaged model \(tiny.en, base\) nor an existing directory"):
        resolve_model(str(tmp_path / "nowhere"), tmp_path)


def test_a_corrupt_model_file_names_the_path_and_the_fix(tmp_path: Path, tiny: WhisperEngine) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny.path, broken)
    (broken / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"broken: cannot load this Whisper model .* reconvert it"):
        load_whisper(str(broken), tmp_path, "cpu", "int8")


def test_cuda_is_refused_clearly_without_a_gpu(tmp_path: Path) -> None:
    from pipeline.speech.whisper import choose_compute_type, choose_device, cuda_available

    if cuda_available():
        pytest.skip("this machine has a GPU")
    assert choose_device("auto") == "cpu" and choose_compute_type("cpu", "auto") == "int8"
    assert choose_compute_type("cuda", "auto") == "float16"
    with pytest.raises(ModelError, match="CTranslate2 sees no CUDA GPU"):
        choose_device("cuda")
