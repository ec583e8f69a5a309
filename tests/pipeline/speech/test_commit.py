"""The commit policy alone: LocalAgreement, endpointing, the stability horizon, and finality."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.speech.commit import CommitPolicy, normalise
from pipeline.speech.whisper import Word


def hyp(*spoken: str, start: float = 0.0, probability: float = 0.9) -> list[Word]:
    """Words half a second long each, from ``start``."""
    return [Word(start + i * 0.5, start + i * 0.5 + 0.5, f" {text}", probability) for i, text in enumerate(spoken)]


def texts(words: tuple[Word, ...] | list[Word]) -> list[str]:
    return [word.text.strip() for word in words]


def test_local_agreement_commits_the_prefix_two_hypotheses_share() -> None:
    policy = CommitPolicy(agreement=2)
    first = policy.update(hyp("the", "cat"), 1.0)
    assert first.committed == () and texts(first.partial) == ["the", "cat"]
    second = policy.update(hyp("the", "cat", "sat", "on"), 2.0)
    assert texts(second.committed) == ["the", "cat"] and texts(second.partial) == ["sat", "on"]
    third = policy.update(hyp("the", "cat", "sat", "upon", "the"), 2.5)
    assert texts(third.committed) == ["sat"] and texts(third.partial) == ["upon", "the"]
    assert texts(policy.committed) == ["the", "cat", "sat"]


def test_spelling_differences_of_case_and_punctuation_still_agree() -> None:
    policy = CommitPolicy(agreement=2)
    policy.update(hyp("Hello,", "world."), 1.0)
    assert texts(policy.update(hyp("hello", "world", "again"), 1.5).committed) == ["hello", "world"]
    assert normalise(" Don't!") == "don't"


def test_an_endpoint_commits_everything_heard_without_waiting() -> None:
    policy = CommitPolicy(agreement=2)
    policy.update(hyp("good", "morning"), 1.0)
    update = policy.update(hyp("good", "morning", "everyone"), 1.6, endpoint=True)
    assert texts(update.committed) == ["good", "morning", "everyone"] and update.partial == ()


def test_words_heard_again_after_a_buffer_cut_are_not_committed_twice() -> None:
    policy = CommitPolicy(agreement=2)
    policy.update(hyp("one", "two", "three"), 1.5, endpoint=True)
    # the buffer was cut before "three": Whisper hears it again, slightly earlier
    again = [Word(1.0, 1.45, " three", 0.9), *hyp("four", "five", start=1.5)]
    policy.update(again, 2.5)
    update = policy.update(again, 3.0)
    assert texts(update.committed) == ["four", "five"]
    assert texts(policy.committed) == ["one", "two", "three", "four", "five"]


def test_the_stability_horizon_commits_old_confident_words_that_flicker_at_the_end() -> None:
    policy = CommitPolicy(agreement=2, stable_after_s=1.0, min_probability=0.8)
    policy.update(hyp("we", "will", "meet"), 1.4)
    # "meet" became "meat": agreement stops at "will"; "meat" ended 1.4 s ago and is confident
    update = policy.update(hyp("we", "will", "meat", "at"), 2.9)
    assert texts(update.committed) == ["we", "will", "meat"]
    unsure = CommitPolicy(agreement=2, stable_after_s=1.0, min_probability=0.8)
    unsure.update(hyp("we", "will", "meet", probability=0.5), 1.4)
    assert texts(unsure.update(hyp("we", "will", "meat", "at", probability=0.5), 2.9).committed) == ["we", "will"]


VOCABULARY = ["a", "b", "c", "d"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(VOCABULARY), max_size=8), st.booleans()), max_size=12))
def test_committed_text_never_changes_and_never_goes_back_in_time(steps: list[tuple[list[str], bool]]) -> None:
    policy = CommitPolicy(agreement=2, stable_after_s=1.0)
    seen: list[Word] = []
    now = 0.0
    for spoken, endpoint in steps:
        now += 0.5
        start = policy.committed_end
        update = policy.update(hyp(*spoken, start=start), start + len(spoken) * 0.5 + now, endpoint=endpoint)
        assert policy.committed[: len(seen)] == seen, "a committed word changed"
        seen = list(policy.committed)
        assert list(update.committed) == seen[len(seen) - len(update.committed) :]
        ends = [word.end for word in seen]
        assert ends == sorted(ends)


def test_the_first_pass_decides_when_and_the_final_pass_what_is_committed() -> None:
    policy = CommitPolicy(agreement=2)
    policy.remember(hyp("he", "was", "not", "an", "old"))
    agreed = policy.agreed(hyp("he", "was", "not", "an", "old", "sposed"), 3.0)
    assert texts(agreed) == ["he", "was", "not", "an", "old"] and policy.committed == []  # nothing committed yet
    final = hyp("he", "was", "not", "an", "ill-disposed", "young")  # the careful pass hears it right
    committed = policy.commit_through(final, agreed[-1].end)
    assert texts(committed) == ["he", "was", "not", "an", "ill-disposed"]
    assert texts(policy.remember(hyp("he", "was", "not", "an", "ill-disposed", "young", "man"))) == ["young", "man"]
    assert policy.commit_through(final, 10.0) == [hyp("young", start=2.5)[0]]  # never a committed word twice
