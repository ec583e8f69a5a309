"""``auralink transcribe FILE``: a file's transcript (and translations) through the streaming stages.

The file runs through the same graph a live call does — ``file_source`` →
``resample`` → ``stt`` → ``translate`` — so what it prints is what captions show.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import ClassVar

import click

from auralink.cli.models import prepare_model
from engine.caps import ANY_TEXT, Caps
from engine.frames import Frame, TextFrame, TextRole, frame_to_json
from engine.graph import Graph, GraphError, LinkSpec, StageSpec
from engine.runner import GraphRunner
from engine.stage import Stage, StageSettings
from pipeline.sources.file import FileSource, FileSourceSettings
from pipeline.speech.models import ModelError
from pipeline.speech.sentences import join_pieces
from pipeline.speech.stt_stage import SpeechToText, SttSettings
from pipeline.speech.translate_stage import Translate, TranslateSettings
from pipeline.speech.whisper import load_whisper
from pipeline.stages.resample import Resample, ResampleSettings
from settings import Settings


class CaptionPrinter(Stage[StageSettings]):
    """Prints each utterance once it is final, and each translation, as it streams."""

    type_name = "caption_printer"
    input_caps: ClassVar[Caps] = ANY_TEXT

    def __init__(self, as_json: bool) -> None:
        super().__init__("print", StageSettings())
        self.as_json = as_json
        self._utterances: dict[TextRole, list[TextFrame]] = {TextRole.TRANSCRIPT: [], TextRole.TRANSLATION: []}

    def process(self, frame: Frame) -> None:
        if not isinstance(frame, TextFrame) or not frame.is_final:
            return
        if self.as_json:
            click.echo(json.dumps(frame_to_json(frame), ensure_ascii=False))
            return
        if "source_text" in frame.attributes:  # a sentence translated from the transcript
            self._print(TextRole.TRANSCRIPT)
            click.echo(f"    {frame.language}: {frame.text}")
            return
        self._utterances[frame.role].append(frame)  # a transcript, or Whisper's English translation of the speech
        if frame.attributes.get("utterance_end"):
            self._print(frame.role)

    def end_of_stream(self) -> None:
        self._print(TextRole.TRANSCRIPT)
        self._print(TextRole.TRANSLATION)

    def _print(self, role: TextRole) -> None:
        frames, self._utterances[role] = self._utterances.get(role, []), []
        if not frames:
            return
        text = join_pieces([f.text for f in frames])
        if role is TextRole.TRANSLATION:
            click.echo(f"    en (whisper): {text}")
            return
        start, end = frames[0].attributes.get("start", 0.0), frames[-1].attributes.get("end", 0.0)
        click.echo(f"[{start:7.2f} -> {end:7.2f}] {text}")


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--model", default=None, help="tiny.en, base, or a faster-whisper model directory (default: stt_model).")
@click.option("--language", default=None, help="Spoken language (ISO 639-1); default: detected.")
@click.option("--translate-to", "targets", multiple=True, help="Also translate into this language (repeatable).")
@click.option("--mt-model", type=click.Path(path_type=Path), default=None, help="CTranslate2 translation model dir.")
@click.option("--json", "as_json", is_flag=True, help="Print every final caption and translation as JSON lines.")
@click.pass_obj
def transcribe(
    settings: Settings,
    file: Path,
    model: str | None,
    language: str | None,
    targets: tuple[str, ...],
    mt_model: Path | None,
    as_json: bool,
) -> None:
    """Print FILE's transcript (and translations) through the streaming speech stages."""
    if not file.is_file():
        raise click.ClickException(f"{file}: no such file")
    name = model or settings.stt_model
    try:
        prepare_model(name, settings)
    except ModelError as error:
        raise click.ClickException(str(error)) from None
    printer = CaptionPrinter(as_json)
    try:
        graph = _graph(file, name, language, list(targets), mt_model, settings, printer)
    except (GraphError, ModelError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    result = asyncio.run(GraphRunner(graph).run())
    if result.error:
        raise click.ClickException(result.error)


def _graph(
    file: Path,
    model: str,
    language: str | None,
    targets: list[str],
    mt_model: Path | None,
    settings: Settings,
    printer: CaptionPrinter,
) -> Graph:
    stt = SttSettings(
        model=model, language=language, device=settings.stt_device, compute_type=settings.stt_compute_type
    )
    stages = [
        StageSpec("source", lambda: FileSource("source", FileSourceSettings(path=file))),
        StageSpec("to16k", lambda: Resample("to16k", ResampleSettings(sample_rate=16000, channels=1))),
        StageSpec("stt", lambda: SpeechToText("stt", stt)),
        StageSpec("print", lambda: printer),
    ]
    links = [LinkSpec("source", "to16k"), LinkSpec("to16k", "stt")]
    if "en" in targets and language != "en" and _multilingual(model, settings):
        # speech to English through Whisper's translate task, beside the transcript
        targets = [target for target in targets if target != "en"]
        speech = TranslateSettings(targets=["en"], engine="whisper", whisper_model=model, source_language=language)
        stages.append(StageSpec("to_english", lambda: Translate("to_english", speech)))
        links += [LinkSpec("to16k", "to_english"), LinkSpec("to_english", "print")]
    if targets:
        text = TranslateSettings(targets=targets, model=mt_model)
        stages.append(StageSpec("translate", lambda: Translate("translate", text)))
        links += [LinkSpec("stt", "translate"), LinkSpec("translate", "print")]
    else:
        links.append(LinkSpec("stt", "print"))
    return Graph.build("transcribe", stages, links)


def _multilingual(model: str, settings: Settings) -> bool:
    return load_whisper(model, settings.speech_models_dir, settings.stt_device, settings.stt_compute_type).multilingual
