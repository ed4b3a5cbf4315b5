"""SMS segment counting as carriers do it (PRODUCT §8).

GSM-7: 160 septets in one segment, 153 per segment when split; the extension characters
take two septets (escape + character). Any character outside GSM-7 switches the whole
message to UCS-2: 70 UTF-16 code units in one segment, 67 per segment when split (an emoji
is a surrogate pair: two units). A two-unit character is never split across segments, so
counting walks the message rather than dividing.
"""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

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


def _segments(unit_sizes: list[int], single: int, multi: int) -> int:
    total = sum(unit_sizes)
    if total <= single:
        return 1 if total else 0
    segments, used = 1, 0
    for size in unit_sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def count_segments(text: str) -> SegmentCount:
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SegmentCount("GSM-7", sum(sizes), _segments(sizes, 160, 153), len(text))
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SegmentCount("UCS-2", sum(sizes), _segments(sizes, 70, 67), len(text))
