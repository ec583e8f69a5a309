"""Whatever text a pipeline file holds, loading it ends in a result or a ConfigError — never anything else."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import ConfigError, load_pipeline_text

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


def load(text: str) -> None:
    try:
        load_pipeline_text(text, Path("/tmp/fuzz/pipeline.yaml"))
    except ConfigError as error:
        assert error.problems and all(str(p).startswith("/tmp/fuzz/pipeline.yaml:") for p in error.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_structured_documents_load_or_explain(document: dict[str, object]) -> None:
    import json

    load(json.dumps(document))  # JSON is YAML


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("stages:- {}[]&*!|>'\"#\n\t abc1,?%@`")), max_size=80))
def test_arbitrary_text_loads_or_explains(text: str) -> None:
    load(text)
