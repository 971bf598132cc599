"""Helpers shared by the generators: seeded streams, time in microseconds, Arrow columns."""

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECOND = 1_000_000  # timestamps are int64 microseconds since the epoch (UTC)
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
UTC_US = pa.timestamp("us", tz="UTC")


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator per part of the school: changing how one part draws never
    changes another's data."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def ts(micros, null=None) -> pa.Array:
    """A UTC timestamp column from int64 microseconds (`null`: mask of missing values)."""
    values = np.asarray(micros, dtype=np.int64)
    return pa.array(values, type=UTC_US, mask=None if null is None else np.asarray(null, bool))


def ints(values, null=None) -> pa.Array:
    values = np.asarray(values, dtype=np.int64)
    return pa.array(values, mask=None if null is None else np.asarray(null, bool))


def strings(values) -> pa.Array:
    return pa.array(values, type=pa.string())


def constant(value, n: int) -> pa.Array:
    """`n` copies of one value (a string, number or bool; None: a null string)."""
    if value is None:
        return pa.nulls(n, pa.string())
    return pa.repeat(pa.scalar(value), n)


def pick(choices: list[str], index) -> pa.Array:
    """choices[index] for every index, as a string column."""
    return pa.array(choices, type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def json_int_lists(values, counts) -> pa.Array:
    """JSON texts of integer lists, formatted as json.dumps does ("[1, 2]"): `values` holds
    every list's items one after the other, `counts` the length of each list."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    items = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), items), ", ")
    return pc.binary_join_element_wise("[", joined, "]", "")


def join_groups(texts: pa.Array, counts, separator: str, prefix: str, suffix: str) -> pa.Array:
    """prefix + separator.join(group) + suffix for consecutive groups of `counts` texts."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), texts), separator)
    return pc.binary_join_element_wise(prefix, joined, suffix, "")


def segment_ids(counts) -> np.ndarray:
    """[0, 0, 1, 2, 2, 2] for counts [2, 1, 3]."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.repeat(np.arange(len(counts)), counts)


def positions(counts) -> np.ndarray:
    """[0, 1, 0, 0, 1, 2] for counts [2, 1, 3]: the position of each item in its group."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return np.arange(counts.sum()) - np.repeat(starts, counts)
