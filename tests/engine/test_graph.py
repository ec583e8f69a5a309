import pytest

from engine.graph import Graph, GraphError, LinkSpec, QueueSpec, StageSpec
from engine.queues import QueuePolicy
from tests.engine.stages import CountingSource, Rate48kOnly, Recorder, SlowTask, Tagger, TextOnly


def spec(name: str, factory: object) -> StageSpec:
    return StageSpec(name, factory, origin=("stages", name))  # type: ignore[arg-type]


def messages(error: pytest.ExceptionInfo[GraphError]) -> list[str]:
    return [problem.message for problem in error.value.problems]


def test_a_chain_is_planned_in_order_with_plain_calls() -> None:
    graph = Graph.build(
        "g",
        [spec("src", CountingSource), spec("tag", lambda: Tagger("tag")), spec("out", lambda: Recorder("out"))],
        [LinkSpec("src", "tag"), LinkSpec("tag", "out")],
    )
    assert graph.order == ["src", "tag", "out"]
    assert graph.queues == {}


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(GraphError) as error:
        Graph.build(
            "g",
            [spec("src", CountingSource), spec("src", CountingSource), spec("lonely", lambda: Recorder("x"))],
            [LinkSpec("src", "nowhere"), LinkSpec("src", "src")],
        )
    assert messages(error) == [
        "stage name 'src' is used twice",
        "no stage named 'nowhere'",
        "stage 'src' is linked to itself",
        "stage 'lonely' has no input: link a source or another stage to it",
    ]


def test_a_cycle_is_named() -> None:
    stages = [spec("src", CountingSource), spec("a", lambda: Tagger("a")), spec("b", lambda: Tagger("b"))]
    with pytest.raises(GraphError) as error:
        Graph.build("g", stages, [LinkSpec("src", "a"), LinkSpec("a", "b"), LinkSpec("b", "a", origin="back")])
    assert messages(error) == ["links make a cycle: a -> b -> a"]
    assert error.value.problems[0].origin == "back"


def test_caps_mismatch_names_both_sides() -> None:
    with pytest.raises(GraphError) as error:
        Graph.build(
            "g",
            [spec("src", CountingSource), spec("want48k", lambda: Rate48kOnly("want48k"))],
            [LinkSpec("src", "want48k")],
        )
    assert messages(error) == [
        "caps do not match: 'src' emits audio(channels=1, format=s16, rate=16000) "
        "but 'want48k' accepts audio(rate=48000)"
    ]


def test_a_link_carries_only_the_kinds_both_sides_share() -> None:
    graph = Graph.build(
        "g",
        [spec("src", CountingSource), spec("tag", lambda: Tagger("tag")), spec("text", lambda: TextOnly("text"))],
        [LinkSpec("src", "tag"), LinkSpec("tag", "text")],
    )
    carried = {link.spec.target: {kind.value for kind in link.kinds} for link in graph.links}
    assert carried["text"] == {"text", "control"}
    assert carried["tag"] == {"audio", "control"}


def test_queues_default_to_leaky_for_live_streams_and_block_otherwise() -> None:
    def build(live: bool) -> Graph:
        return Graph.build(
            "g", [spec("src", lambda: CountingSource(live=live)), spec("slow", SlowTask)], [LinkSpec("src", "slow")]
        )

    assert build(live=True).queues["slow"].policy is QueuePolicy.LEAKY
    assert build(live=False).queues["slow"].policy is QueuePolicy.BLOCK


def test_links_into_one_stage_must_agree_on_its_queue() -> None:
    stages = [spec("a", CountingSource), spec("b", CountingSource), spec("out", lambda: Recorder("out"))]
    links = [LinkSpec("a", "out", QueueSpec(5, QueuePolicy.LEAKY)), LinkSpec("b", "out", QueueSpec(9))]
    with pytest.raises(GraphError) as error:
        Graph.build("g", stages, links)
    assert messages(error) == ["links into 'out' ask for different queues; they share one input queue"]
