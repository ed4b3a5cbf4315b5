"""SMS segment counting as carriers do it (PRODUCT §8).

GSM-7: 160 septets in one segment, 153 per segment when split; the extension characters
take two septets (escape + character). Any character outside GSM-7 switches the whole
message to UCS-2: 70 UTF-16 code units in one segment, 67 per segment when split (an emoji
is a surrogate pair: two units). A two-unit character is never split across segments, so a
message holding one is counted by walking it; every other message (most of them) is counted
with whole-string operations that run in C: a set comparison for the alphabet, a division
for the segments.
"""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

WARN_ABOVE_SEGMENTS = 2
MAX_SEGMENTS = 10


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    characters: int

    @property
    def warn(self) -> bool:
        return self.segments > WARN_ABOVE_SEGMENTS

    @property
    def too_long(self) -> bool:
        return self.segments > MAX_SEGMENTS


def _segments(units: int, unit_sizes, single: int, multi: int) -> int:
    """Segments for `units` in all; `unit_sizes` (each character's units) is walked only when
    some character takes two units, None when every one takes one."""
    if units <= single:
        return 1 if units else 0
    if unit_sizes is None:
        return -(-units // multi)
    segments, used = 1, 0
    for size in unit_sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def count_segments(text: str) -> SegmentCount:
    characters = set(text)
    if characters <= GSM7:
        extended = characters & GSM7_EXTENSION
        units = len(text) + sum(text.count(char) for char in extended)
        sizes = (2 if char in extended else 1 for char in text) if extended else None
        return SegmentCount("GSM-7", units, _segments(units, sizes, 160, 153), len(text))
    # A lone surrogate (never valid text, but possible in a str) is one unit, as before.
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    sizes = (2 if ord(char) > 0xFFFF else 1 for char in text) if units > len(text) else None
    return SegmentCount("UCS-2", units, _segments(units, sizes, 70, 67), len(text))
