"""SMS segment counting (PRODUCT §8), checked against the carrier rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchbase.delivery.segments import GSM7, GSM7_BASIC, GSM7_EXTENSION, count_segments


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters count twice
        ("€" * 81, "GSM-7", 162, 2),
        ("{}[]~|^\\€", "GSM-7", 18, 1),
        ("é" * 160, "GSM-7", 160, 1),  # é is in the GSM-7 basic set
        ("a" * 69 + "ç", "UCS-2", 70, 1),  # ç is not: the whole message is UCS-2
        ("a" * 70 + "ç", "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_segments_encoding_and_units(text, encoding, units, segments):
    count = count_segments(text)

    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def test_a_two_septet_character_is_not_split_across_segments():
    # 152 plain septets then "€": it cannot straddle segments 1 and 2, so it moves to part 2.
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2


def test_an_emoji_is_not_split_across_segments():
    assert count_segments("a" * 66 + "😀" + "a" * 66).segments == 3
    assert count_segments("a" * 65 + "😀" + "a" * 67).segments == 2


def test_warn_above_two_segments_refuse_above_ten():
    assert not count_segments("a" * 306).warn
    assert count_segments("a" * 307).warn
    assert not count_segments("a" * 1530).too_long
    assert count_segments("a" * 1531).too_long


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=2000))
def test_plain_gsm_text_needs_the_textbook_number_of_segments(text):
    expected = 0 if not text else 1 if len(text) <= 160 else -(-len(text) // 153)

    assert count_segments(text).segments == expected


def walked(text: str) -> tuple[str, int, int]:
    """The carrier rule spelled out one character at a time: the oracle for the fast path."""
    if all(char in GSM7 for char in text):
        encoding, sizes, single, multi = (
            "GSM-7",
            [2 if c in GSM7_EXTENSION else 1 for c in text],
            160,
            153,
        )
    else:
        encoding, sizes, single, multi = (
            "UCS-2",
            [2 if ord(c) > 0xFFFF else 1 for c in text],
            70,
            67,
        )
    segments, used = (1 if sizes else 0), 0
    if sum(sizes) > single:
        for size in sizes:
            if used + size > multi:
                segments, used = segments + 1, 0
            used += size
    return encoding, sum(sizes), segments


MIXED = st.text(
    alphabet=st.sampled_from(sorted(GSM7_BASIC)[:8] + sorted(GSM7_EXTENSION) + ["ç", "😀", "ü"]),
    max_size=1600,
)


@given(st.one_of(MIXED, st.text(max_size=400)))
def test_the_whole_string_count_agrees_with_walking_the_message(text):
    count = count_segments(text)

    assert (count.encoding, count.units, count.segments) == walked(text)
    assert count.characters == len(text)


def test_a_lone_surrogate_counts_as_one_unit():
    assert count_segments("a\ud800").units == 2
