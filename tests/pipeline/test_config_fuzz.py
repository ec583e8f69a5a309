"""Whatever text a pipeline file holds, loading it ends in a result or a ConfigError — never anything else."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import ConfigError, load_pipeline_text
from pipeline.config.yaml_source import MAX_DEPTH, parse_yaml

STAGE_TYPES = ["synthetic_source", "resample", "level_meter", "jsonl_sink", "file_sink", "nope"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(STAGE_TYPES),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
stage = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "c", "1bad"]), "type": st.sampled_from(STAGE_TYPES)},
    optional={
        "settings": st.dictionaries(
            st.sampled_from(["sample_rate", "channels", "path", "signal", "x"]), values, max_size=3
        ),
        "on_error": values,
    },
)
documents = st.fixed_dictionaries(
    {"stages": st.lists(stage, max_size=4)},
    optional={
        "links": st.lists(
            st.one_of(
                st.text(max_size=10),
                st.fixed_dictionaries(
                    {"from": st.sampled_from(["a", "b", "c", "z"]), "to": st.sampled_from(["a", "b", "c", "z"])}
                ),
            ),
            max_size=4,
        ),
        "version": values,
        "name": values,
    },
)


def load(text: str) -> list[str]:
    """The problems loading ``text`` reports (none when it loads)."""
    try:
        load_pipeline_text(text, Path("/tmp/fuzz/pipeline.yaml"))
    except ConfigError as error:
        assert error.problems and all(str(p).startswith("/tmp/fuzz/pipeline.yaml:") for p in error.problems)
        return [str(problem) for problem in error.problems]
    return []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_structured_documents_load_or_explain(document: dict[str, object]) -> None:
    import json

    load(json.dumps(document))  # JSON is YAML


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("stages:- {}[]&*!|>'\"#\n\t abc1,?%@`")), max_size=80))
def test_arbitrary_text_loads_or_explains(text: str) -> None:
    load(text)


TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels"
FLOW_LEVELS = {"list": ("[", "]"), "mapping": ("{k: ", "}"), "keyed list": ("{k: [", "]}")}


@st.composite
def nestings(draw: st.DrawFn) -> tuple[str, int]:
    """A document whose ``x`` holds a scalar nested in block lists, then flow lists and mappings; and its depth.

    The depth is that of the innermost scalar (the top-level mapping is depth 0, ``x``'s value depth 1); it is
    drawn around the limit or anywhere up to a few thousand levels.
    """
    depth = draw(st.one_of(st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2), st.integers(1, 4000)))
    block = draw(st.integers(0, min(depth - 1, 200)))  # "- - - 1" nests block lists on one line
    openings: list[str] = ["- "] * block
    closings: list[str] = []
    while len(openings) < depth - 1:
        kind = draw(st.sampled_from(sorted(FLOW_LEVELS)))
        if kind == "keyed list" and len(openings) == depth - 2:
            kind = "list"
        opening, closing = FLOW_LEVELS[kind]
        openings.append(opening)
        closings.append(closing)
        openings.extend([""] * (kind == "keyed list"))  # a keyed list is two levels
    text = "stages:\n  - {name: a, type: synthetic_source}\nx:\n  " + "".join(openings) + "1"
    return text + "".join(reversed(closings)) + "\n", depth


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nestings())
def test_any_depth_of_nesting_loads_or_explains_and_only_past_the_limit_is_too_deep(
    nesting: tuple[str, int],
) -> None:
    text, depth = nesting
    found = load(text)
    assert found, "x is not a pipeline field"
    too_deep = [problem for problem in found if problem.endswith(TOO_DEEP)]
    assert bool(too_deep) == (depth > MAX_DEPTH), found
    if too_deep:
        assert found == too_deep and len(too_deep) == 1


@pytest.mark.parametrize(
    ("opening", "closing", "column"),
    [("[", "]", 66), ("{a: ", "}", 258), ("- ", "", 131)],  # the first node one level too deep (a key: 'a')
    ids=["flow list", "flow mapping", "block list"],
)
def test_nesting_exactly_at_the_limit_parses_and_one_level_more_is_refused(
    opening: str, closing: str, column: int
) -> None:
    def nested(levels: int) -> str:  # the scalar lies at depth ``levels``
        return "- " * levels + "1\n" if opening == "- " else opening * levels + "1" + closing * levels + "\n"

    value, _ = parse_yaml(nested(MAX_DEPTH), "deep.yaml")
    for _ in range(MAX_DEPTH):
        value = value[0] if isinstance(value, list) else value["a"]
    assert value == 1
    with pytest.raises(ConfigError) as error:
        parse_yaml(nested(MAX_DEPTH + 1), "deep.yaml")
    [problem] = error.value.problems
    assert (problem.line, problem.column, problem.message) == (1, column, TOO_DEEP)


def test_an_alias_nested_in_itself_is_too_deep_not_endless() -> None:
    with pytest.raises(ConfigError) as error:
        parse_yaml("stages: &s [*s]\n", "self.yaml")
    assert [problem.message for problem in error.value.problems] == [TOO_DEEP]
