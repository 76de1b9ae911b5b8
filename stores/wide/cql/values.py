"""Python value classes for the CQL types Python has no good type for.

``Date``, ``Time`` and ``Duration`` behave like cassandra-driver's
``cassandra.util`` classes of the same names, so that code written against
the driver reads the embedded engine's rows unchanged. This module never
imports cassandra-driver and knows nothing of bytes or storage.
"""

from __future__ import annotations

import datetime
import re

EPOCH_DATE = datetime.date(1970, 1, 1)
NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_DAY = 86_400 * NANOS_PER_SECOND

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")


class Date:
    """A CQL ``date``: a day count from 1970-01-01 (negative before it)."""

    __slots__ = ("days_from_epoch",)

    def __init__(self, value: int | datetime.date | str | Date):
        if isinstance(value, Date):
            self.days_from_epoch = value.days_from_epoch
        elif isinstance(value, datetime.datetime):
            self.days_from_epoch = (value.date() - EPOCH_DATE).days
        elif isinstance(value, datetime.date):
            self.days_from_epoch = (value - EPOCH_DATE).days
        elif isinstance(value, int) and not isinstance(value, bool):
            self.days_from_epoch = value
        elif isinstance(value, str):
            self.days_from_epoch = (datetime.date.fromisoformat(value.strip()) - EPOCH_DATE).days
        else:
            raise TypeError(f"Date arguments must be a whole number, date or string: {value!r}")

    def date(self) -> datetime.date:
        """Return the ``datetime.date`` (raises OverflowError outside years 1-9999)."""
        return EPOCH_DATE + datetime.timedelta(days=self.days_from_epoch)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Date):
            return self.days_from_epoch == other.days_from_epoch
        if isinstance(other, datetime.date) and not isinstance(other, datetime.datetime):
            return self.days_from_epoch == (other - EPOCH_DATE).days
        if isinstance(other, int) and not isinstance(other, bool):
            return self.days_from_epoch == other
        if hasattr(other, "days_from_epoch"):
            return self.days_from_epoch == other.days_from_epoch
        return NotImplemented

    def __lt__(self, other: Date) -> bool:
        return self.days_from_epoch < Date(other).days_from_epoch

    def __hash__(self) -> int:
        return hash(self.days_from_epoch)

    def __repr__(self) -> str:
        return f"Date({self.days_from_epoch})"

    def __str__(self) -> str:
        try:
            return self.date().isoformat()
        except OverflowError:
            return str(self.days_from_epoch)


class Time:
    """A CQL ``time``: nanoseconds since midnight."""

    __slots__ = ("nanosecond_time",)

    def __init__(self, value: int | datetime.time | str | Time):
        if isinstance(value, Time):
            nanos = value.nanosecond_time
        elif isinstance(value, datetime.time):
            nanos = (
                value.hour * 3600 + value.minute * 60 + value.second
            ) * NANOS_PER_SECOND + value.microsecond * 1000
        elif isinstance(value, int) and not isinstance(value, bool):
            nanos = value
        elif isinstance(value, str):
            nanos = parse_time_string(value)
        else:
            raise TypeError(f"Time arguments must be a whole number, time or string: {value!r}")
        if not 0 <= nanos < NANOS_PER_DAY:
            raise ValueError("Time must be between 00:00:00 and 23:59:59.999999999")
        self.nanosecond_time = nanos

    @property
    def hour(self) -> int:
        return self.nanosecond_time // (3600 * NANOS_PER_SECOND)

    @property
    def minute(self) -> int:
        return self.nanosecond_time // (60 * NANOS_PER_SECOND) % 60

    @property
    def second(self) -> int:
        return self.nanosecond_time // NANOS_PER_SECOND % 60

    @property
    def nanosecond(self) -> int:
        return self.nanosecond_time % NANOS_PER_SECOND

    def time(self) -> datetime.time:
        """Return a ``datetime.time`` (nanoseconds truncated to microseconds)."""
        return datetime.time(self.hour, self.minute, self.second, self.nanosecond // 1000)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Time):
            return self.nanosecond_time == other.nanosecond_time
        if isinstance(other, datetime.time):
            return self.nanosecond_time == Time(other).nanosecond_time
        if isinstance(other, int) and not isinstance(other, bool):
            return self.nanosecond_time == other
        if hasattr(other, "nanosecond_time"):
            return self.nanosecond_time == other.nanosecond_time
        return NotImplemented

    def __lt__(self, other: Time) -> bool:
        return self.nanosecond_time < Time(other).nanosecond_time

    def __hash__(self) -> int:
        return hash(self.nanosecond_time)

    def __repr__(self) -> str:
        return f"Time({self.nanosecond_time})"

    def __str__(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}:{self.second:02d}.{self.nanosecond:09d}"


def parse_time_string(text: str) -> int:
    """Return nanoseconds since midnight for ``HH:MM:SS[.fffffffff]``."""
    match = _TIME_RE.match(text.strip())
    if not match:
        raise ValueError(f"Unable to coerce '{text}' to a formatted time (long)")
    hours, minutes, seconds, fraction = match.groups()
    hours, minutes, seconds = int(hours), int(minutes), int(seconds)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"Unable to coerce '{text}' to a formatted time (long)")
    nanos = int((fraction or "").ljust(9, "0"))
    return (hours * 3600 + minutes * 60 + seconds) * NANOS_PER_SECOND + nanos


class Duration:
    """A CQL ``duration``: months, days and nanoseconds, each signed alike."""

    __slots__ = ("months", "days", "nanoseconds")

    def __init__(self, months: int = 0, days: int = 0, nanoseconds: int = 0):
        signs = {(v > 0) - (v < 0) for v in (months, days, nanoseconds)} - {0}
        if len(signs) > 1:
            raise ValueError(
                "The duration months, days and nanoseconds must be all of the same sign"
            )
        self.months = months
        self.days = days
        self.nanoseconds = nanoseconds

    def __eq__(self, other: object) -> bool:
        if not all(hasattr(other, a) for a in ("months", "days", "nanoseconds")):
            return NotImplemented
        return (self.months, self.days, self.nanoseconds) == (
            other.months,
            other.days,
            other.nanoseconds,
        )

    def __hash__(self) -> int:
        return hash((self.months, self.days, self.nanoseconds))

    def __repr__(self) -> str:
        return f"Duration({self.months}, {self.days}, {self.nanoseconds})"

    def __str__(self) -> str:
        negative = self.months < 0 or self.days < 0 or self.nanoseconds < 0
        months, days, nanos = abs(self.months), abs(self.days), abs(self.nanoseconds)
        parts = []
        for amount, unit in ((months // 12, "y"), (months % 12, "mo"), (days, "d")):
            if amount:
                parts.append(f"{amount}{unit}")
        for size, unit in (
            (3600 * NANOS_PER_SECOND, "h"),
            (60 * NANOS_PER_SECOND, "m"),
            (NANOS_PER_SECOND, "s"),
            (1_000_000, "ms"),
            (1000, "us"),
            (1, "ns"),
        ):
            if nanos >= size:
                parts.append(f"{nanos // size}{unit}")
                nanos %= size
        text = "".join(parts) or "0s"
        return ("-" if negative else "") + text


_DURATION_UNITS = {
    "y": (12, 0, 0),
    "mo": (1, 0, 0),
    "w": (0, 7, 0),
    "d": (0, 1, 0),
    "h": (0, 0, 3600 * NANOS_PER_SECOND),
    "m": (0, 0, 60 * NANOS_PER_SECOND),
    "s": (0, 0, NANOS_PER_SECOND),
    "ms": (0, 0, 1_000_000),
    "us": (0, 0, 1000),
    "µs": (0, 0, 1000),
    "ns": (0, 0, 1),
}
_DURATION_PART_RE = re.compile(r"(\d+)(mo|ms|us|µs|ns|y|w|d|h|m|s)", re.IGNORECASE)
_ISO_DURATION_RE = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$",
    re.IGNORECASE,
)


def parse_duration(text: str) -> Duration:
    """Return the Duration for a CQL duration literal (``1h30m``, ``P1DT2H``)."""
    source = text.strip()
    negative = source.startswith("-")
    if negative:
        source = source[1:]
    months = days = nanos = 0
    iso = _ISO_DURATION_RE.match(source) if source[:1] in ("P", "p") else None
    if iso and any(iso.groups()):
        y, mo, w, d, h, mi, s = (int(g or 0) for g in iso.groups())
        months = y * 12 + mo
        days = w * 7 + d
        nanos = ((h * 60 + mi) * 60 + s) * NANOS_PER_SECOND
    else:
        position = 0
        for match in _DURATION_PART_RE.finditer(source):
            if match.start() != position:
                break
            position = match.end()
            m, d, n = _DURATION_UNITS[match.group(2).lower()]
            amount = int(match.group(1))
            months += m * amount
            days += d * amount
            nanos += n * amount
        if position != len(source) or not source:
            raise ValueError(f"Unable to convert '{text}' to a duration")
    if negative:
        months, days, nanos = -months, -days, -nanos
    return Duration(months, days, nanos)
