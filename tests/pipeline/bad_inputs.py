"""Invalid pipeline files and the exact line `auralink validate` must print for each."""

from __future__ import annotations

from pathlib import Path

from pipeline.registry import stage_types

CHAIN = "stages:\n  - {name: src, type: synthetic_source}\n  - {name: meter, type: level_meter}\n"


def alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for letter in "bcdefghi":
        lines.append(f"{letter}: &{letter} [{','.join(['*' + previous] * 9)}]")
        previous = letter
    return "\n".join(lines) + "\nstages: [*i]\n"


def deeply_nested(levels: int, opening: str, closing: str) -> str:
    """A value nested ``levels`` times under ``x`` (thousands of levels once crashed the loader)."""
    return "stages:\n  - {name: src, type: synthetic_source}\nx: " + opening * levels + "1" + closing * levels + "\n"


CASES: dict[str, tuple[str, list[str]]] = {
    "syntax": (
        "stages:\n  - name: a\n    type: synthetic_source\n   bad: [\n",
        [
            "4:4: YAML syntax error: while parsing a block collection, expected <block end>, "
            "but found '<block mapping start>'"
        ],
    ),
    "empty": ("", ["1:1: the file is empty; a pipeline needs at least 'stages'"]),
    "comments_only": ("# nothing here\n", ["1:1: the file is empty; a pipeline needs at least 'stages'"]),
    "not_mapping": ("- a\n- b\n", ["1:1: the top level must be a mapping with 'stages', not a list"]),
    "unknown_type": (
        "stages:\n  - name: src\n    type: synthetic_sorce\n",
        [
            "3:5: stages[0].type: unknown stage type 'synthetic_sorce' (did you mean 'synthetic_source'?); "
            f"known types: {', '.join(stage_types())}"
        ],
    ),
    "missing_field": ("stages:\n  - type: level_meter\n", ["2:5: stages[0].name: required field is missing"]),
    "missing_setting": (
        "stages:\n  - {name: f, type: file_source}\n",
        ["2:5: stages[0].settings.path: required field is missing"],
    ),
    "unknown_field": (
        "stages:\n  - name: src\n    type: synthetic_source\n    settings:\n      freqency: 3\n",
        [
            "5:7: stages[0].settings.freqency: unknown field (did you mean 'frequency_hz'?); expected one "
            "of: signal, frequency_hz, level_dbfs, sample_rate, channels, frame_ms, duration_s, realtime, "
            "seed"
        ],
    ),
    "mistyped_field": (
        "stages:\n  - name: src\n    type: synthetic_source\n    settings: {sample_rate: fast}\n",
        [
            "4:16: stages[0].settings.sample_rate: Input should be a valid integer, unable to parse "
            "string as an integer (got 'fast')"
        ],
    ),
    "out_of_range": (
        "stages:\n  - name: src\n    type: synthetic_source\n    settings: {channels: 0}\n",
        ["4:16: stages[0].settings.channels: Input should be greater than or equal to 1 (got 0)"],
    ),
    "bad_link": (
        CHAIN + "links:\n  - src -> meter\n  - {from: meter, to: nowhere}\n",
        ["6:19: links[1].to: no stage named 'nowhere'"],
    ),
    "bad_link_text": (
        CHAIN + "links:\n  - src => meter\n",
        ["5:5: links[0]: a link written as text must read 'from -> to', not 'src => meter'"],
    ),
    "cycle": (
        CHAIN + "  - {name: norm, type: resample}\nlinks:\n  - src -> meter\n  - meter -> norm\n  - norm -> meter\n",
        ["8:5: links[2]: links make a cycle: meter -> norm -> meter"],
    ),
    "caps": (
        "stages:\n  - {name: src, type: synthetic_source}\n  - {name: log, type: jsonl_sink}\n",
        [
            "3:5: stages[1]: caps do not match: 'src' emits audio(channels=1, format=s16, rate=48000) "
            "but 'log' accepts text or event"
        ],
    ),
    "alias_bomb": (
        alias_bomb(),
        ["1:14: the document expands to more than 100000 values (an alias bomb?); pipeline files are far smaller"],
    ),
    "deep_lists": (deeply_nested(3000, "[", "]"), ["3:68: nesting deeper than 64 levels"]),
    "deep_mappings": (deeply_nested(3000, "{a: ", "}"), ["3:257: nesting deeper than 64 levels"]),
    "deep_block_lists": ("stages:\n  " + "- " * 3000 + "1\n", ["2:131: nesting deeper than 64 levels"]),
    "python_tag": (
        'stages: !!python/object/apply:os.system ["echo pwned"]\n',
        ["1:9: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'"],
    ),
    "scalar_tag": (
        "name: !!python/name:os.system\nstages: []\n",
        ["1:7: YAML error: could not determine a constructor for the tag 'tag:yaml.org,2002:python/name:os.system'"],
    ),
    "surrogate": ('stages: ["\\ud800"]\n', ["1:10: text holds an unpaired surrogate escape (\\ud800-\\udfff)"]),
    "duplicate_key": ("stages: []\nstages: []\n", ["2:1: duplicate key 'stages'"]),
    "bad_stage_name": (
        "stages:\n  - {name: my source, type: synthetic_source}\n",
        [
            "2:6: stages[0].name: a name is 1 to 64 letters, digits, '_' or '-', and starts with a letter or '_' "
            "(got 'my source')"
        ],
    ),
    "no_stages": (
        "name: x\nstages: []\n",
        ["2:1: stages: List should have at least 1 item after validation, not 0 (got [])"],
    ),
}


def write_case(directory: Path, name: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(CASES[name][0], encoding="utf-8")
    return path


def big_file(directory: Path) -> Path:
    path = directory / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # a sparse 100 MB file
    return path
