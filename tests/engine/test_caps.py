from engine.caps import ANY_AUDIO, ANY_TEXT, Caps, audio
from engine.frames import FrameKind


def test_fields_left_open_match_anything() -> None:
    fixed = Caps.of(audio(rate=16000, channels=1))
    assert not fixed.intersect(ANY_AUDIO).is_empty
    assert fixed.intersect(ANY_AUDIO).structure(FrameKind.AUDIO) == audio(rate=16000, channels=1)


def test_different_fixed_values_do_not_match() -> None:
    assert Caps.of(audio(rate=48000)).intersect(Caps.of(audio(rate=16000))).is_empty


def test_value_sets_intersect_to_the_common_value() -> None:
    common = Caps.of(audio(rate=[16000, 48000])).intersect(Caps.of(audio(rate=[8000, 16000])))
    structure = common.structure(FrameKind.AUDIO)
    assert structure is not None and structure.fixed("rate") == 16000


def test_kinds_never_match_each_other() -> None:
    assert ANY_AUDIO.intersect(ANY_TEXT).is_empty


def test_description_names_kinds_and_fields() -> None:
    assert Caps.of(audio(rate=16000, channels=1)).describe() == "audio(channels=1, rate=16000)"
    assert ANY_TEXT.union(ANY_AUDIO).describe() == "text or audio"
    assert Caps().describe() == "nothing"


def test_replace_swaps_one_kind_and_keeps_others() -> None:
    caps = ANY_AUDIO.union(ANY_TEXT).replace(FrameKind.AUDIO, audio(rate=8000))
    assert caps.kinds == {FrameKind.AUDIO, FrameKind.TEXT}
    assert caps.structure(FrameKind.AUDIO) == audio(rate=8000)
