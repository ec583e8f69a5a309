"""``auralink transcribe FILE``: a file's transcript (and translations) through the streaming stages.

The file runs through the same graph a live call does — ``file_source`` →
``resample`` → ``stt`` → ``translate`` — so what it prints is what captions show.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

import click

from auralink.cli.models import prepare_model
from auralink.settings import Settings
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
from pipeline.stages.resample import Resample, ResampleSettings


class CaptionPrinter(Stage[StageSettings]):
    """Prints each utterance once it is final, and each translation, as it streams."""

    type_name = "caption_printer"
    input_caps: ClassVar[Caps] = ANY_TEXT

    def __init__(self, as_json: bool) -> None:
        super().__init__("print", StageSettings())
        self.as_json = as_json
        self._utterance: list[TextFrame] = []

    def process(self, frame: Frame) -> None:
        if not isinstance(frame, TextFrame) or not frame.is_final:
            return
        if self.as_json:
            click.echo(json.dumps(frame_to_json(frame), ensure_ascii=False))
        if frame.role is TextRole.TRANSLATION and "source_text" in frame.attributes:  # a text translation
            self._print_utterance()
            if not self.as_json:
                click.echo(f"    {frame.language}: {frame.text}")
            return
        self._utterance.append(frame)
        if frame.attributes.get("utterance_end"):
            self._print_utterance()

    def end_of_stream(self) -> None:
        self._print_utterance()

    def _print_utterance(self) -> None:
        if not self._utterance:
            return
        frames, self._utterance = self._utterance, []
        if not self.as_json:
            start, end = frames[0].attributes.get("start", 0.0), frames[-1].attributes.get("end", 0.0)
            click.echo(f"[{start:7.2f} -> {end:7.2f}] {join_pieces([f.text for f in frames])}")


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
    except (GraphError, ValueError) as error:
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
    ]
    links = [LinkSpec("source", "to16k"), LinkSpec("to16k", "stt")]
    last = "stt"
    if targets:
        options: dict[str, Any] = {"targets": targets, "model": mt_model}
        translate = TranslateSettings(**options)
        stages.append(StageSpec("translate", lambda: Translate("translate", translate)))
        links.append(LinkSpec("stt", "translate"))
        last = "translate"
    stages.append(StageSpec("print", lambda: printer))
    links.append(LinkSpec(last, "print"))
    return Graph.build("transcribe", stages, links)
