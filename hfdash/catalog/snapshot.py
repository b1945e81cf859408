"""The offline catalog: a parquet snapshot of Hub model records, loaded once and queried vectorised.

One format for the shipped snapshot (built by `scripts/build_snapshot.py`) and for a refresh fetched
from the live Hub (`python -m hfdash snapshot`): `records_to_table` + `write_snapshot` write both.
Rows are stored sorted by id, so "ties by id ascending" is "ties by row position".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hfdash import safefile
from hfdash.catalog import filters
from hfdash.catalog.records import (SORT_FIELD, FitsOn, ModelConfig, ModelQuery, ModelRecord, ProviderOffer,
                                   SearchResult, Sort)
from hfdash.errors import SnapshotError

FORMAT_VERSION = 1
METADATA_KEY = b"hfdash.snapshot"
REBUILD_COMMAND = "make snapshot (scripts/build_snapshot.py; see the README), or python -m hfdash snapshot --out PATH"

CONFIG_FIELDS = tuple(f.name for f in fields(ModelConfig))
# Record field annotations (less "| None") -> arrow types; every column follows a dataclass field.
_ARROW_TYPES = {"str": pa.string(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(),
                "dt.date": pa.date32(), "tuple[str, ...]": pa.list_(pa.string()),
                "dict[str, int]": pa.map_(pa.string(), pa.int64())}


def _arrow_type(annotation: object) -> pa.DataType:
    return _ARROW_TYPES[str(annotation).removesuffix(" | None")]


OFFER_TYPE = pa.struct([(f.name, _arrow_type(f.type)) for f in fields(ProviderOffer)])
_ARROW_TYPES["tuple[ProviderOffer, ...]"] = pa.list_(OFFER_TYPE)
# The record's own fields, then its config's facts, flattened.
RECORD_COLUMNS = tuple(f for f in fields(ModelRecord) if f.name != "config")
SCHEMA = pa.schema([(f.name, _arrow_type(f.type)) for f in (*RECORD_COLUMNS, *fields(ModelConfig))])
# Columns a snapshot written before they existed lacks: config facts and fields marked optional.
OPTIONAL_COLUMNS = frozenset(CONFIG_FIELDS) | {f.name for f in RECORD_COLUMNS if f.metadata["optional"]}


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    date: dt.date | None  # newest createdAt in the snapshot
    rows: int
    sources: dict  # what it was built from, e.g. {"llmfit": "1.1.17", "litellm": "1.110.2"}
    built: str | None = None  # "scripts/build_snapshot.py" or "hub refresh from <endpoint> on <day>"


# ---------------------------------------------------------------- writing


def record_to_row(record: ModelRecord) -> dict:
    row = {f.name: _to_cell(getattr(record, f.name)) for f in RECORD_COLUMNS}
    row.update({name: getattr(record.config, name) for name in CONFIG_FIELDS})
    return row


def _to_cell(value):
    if isinstance(value, tuple):
        return [vars(item) if isinstance(item, ProviderOffer) else item for item in value]
    if isinstance(value, dict):
        return sorted(value.items())
    return value


def records_to_table(records: list[ModelRecord]) -> pa.Table:
    ordered = sorted(records, key=lambda r: r.id)
    return pa.Table.from_pylist([record_to_row(r) for r in ordered], schema=SCHEMA)


def write_snapshot(table: pa.Table, path: str | Path, *, sources: dict, built: str) -> SnapshotInfo:
    """Write deterministically (same rows + sources -> same bytes); the date is the newest createdAt."""
    newest = pc.max(table["created_at"]).as_py()
    meta = {"format": FORMAT_VERSION, "date": newest.isoformat() if newest else None, "rows": table.num_rows,
            "sources": sources, "built": built}
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(meta, sort_keys=True).encode()})
    path = Path(path)
    with safefile.replacing(path, what="snapshot", file_mode=0o644) as out:  # never a half-written snapshot
        pq.write_table(table, out, compression="zstd", compression_level=9, write_statistics=False)
    return SnapshotInfo(path, newest, table.num_rows, sources, built)


# ---------------------------------------------------------------- reading


def read_table(path: str | Path) -> tuple[pa.Table, SnapshotInfo]:
    """Read and validate; any problem is a SnapshotError naming the file and how to rebuild it."""
    path = Path(path)

    def broken(why: str) -> SnapshotError:
        return SnapshotError(f"The model snapshot {path} {why}.", hint=f"Rebuild it with: {REBUILD_COMMAND}")

    if not path.is_file():
        raise broken("is missing")
    try:
        table = pq.ParquetFile(path).read()  # not pq.read_table: that imports pyarrow.dataset and pandas
    except (OSError, pa.ArrowException) as exc:
        raise broken(f"is not a readable parquet file ({exc.__class__.__name__})") from exc
    raw_meta = (table.schema.metadata or {}).get(METADATA_KEY)
    try:
        meta = json.loads(raw_meta or b"")
    except (TypeError, ValueError) as exc:
        raise broken("has no hfdash snapshot metadata") from exc
    if meta.get("format") != FORMAT_VERSION:
        raise broken(f"has format {meta.get('format')!r}, this version reads {FORMAT_VERSION}")
    missing = [name for name in SCHEMA.names if name not in table.column_names and name not in OPTIONAL_COLUMNS]
    if missing:
        raise broken(f"lacks the columns {', '.join(missing)}")
    for name in OPTIONAL_COLUMNS:
        if name not in table.column_names:
            table = table.append_column(SCHEMA.field(name), pa.nulls(table.num_rows, SCHEMA.field(name).type))
    try:
        table = table.select(SCHEMA.names).cast(SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise broken(f"has columns of the wrong type ({exc})") from exc
    date = dt.date.fromisoformat(meta["date"]) if meta.get("date") else None
    return table, SnapshotInfo(path, date, table.num_rows, meta.get("sources") or {}, meta.get("built"))


class Snapshot:
    """A loaded snapshot: the arrow table plus numpy views of every filterable column."""

    def __init__(self, table: pa.Table, info: SnapshotInfo):
        table = table.combine_chunks()  # taking result rows from many chunks is slow
        if not _sorted(table["id"]):
            table = table.take(pc.sort_indices(table, [("id", "ascending")]))
        self.table = table
        self.info = info
        self.size = table.num_rows
        self.ids_lower = pc.utf8_lower(self.table["id"].combine_chunks())
        self.ids_folded, self._id_bytes, self._id_offsets = _folded(self.ids_lower)
        self._byte_counts = np.bincount(self._id_bytes, minlength=256)
        self.numeric = {name: _as_float(table[name]) for name in
                        ("params", "likes", "downloads", "trending", "created_at", "last_modified")}
        self.categories = {name: _codes(table[name]) for name in ("task", "library", "gated", "license")}
        self.providers_known, self.provider_names, self.provider_rows = _provider_index(table["providers"])
        # A column that is null everywhere is a fact this snapshot lacks, not 'unknown for some models'.
        self._fits: dict[FitsOn, tuple[np.ndarray, np.ndarray]] = {}  # (fits, known) masks, computed on first use
        self._fit_columns: tuple[dict[str, np.ndarray], np.ndarray] | None = None
        self.lacks = {name for name in ("task", "library", "gated", "license", "params", "likes", "downloads",
                                        "trending", "created_at", "last_modified", "providers")
                      if table[name].null_count == self.size}

    # -- public

    def search(self, query: ModelQuery, *, today: dt.date) -> SearchResult:
        conditions = filters.conditions(query, today)
        notices = [filters.lacks_notice(c.field, "the snapshot") for c in conditions if c.field in self.lacks]
        # Per row, how many conditions it fails: 0 = selected; 1 and unknown on a field = left out for that alone.
        failures = np.zeros(self.size, dtype=np.int8)
        for cond in conditions:
            failures += ~self._mask(cond)
        selected = failures == 0
        failed_once = failures == 1
        excluded = {c.field: n for c in conditions
                    if (n := int(np.count_nonzero(failed_once & ~self._known(c.field, c))))}
        sort, sort_notice = self._servable_sort(query.sort)
        notices += [sort_notice] if sort_notice else []
        rows = self._top(selected, SORT_FIELD[sort], query.limit)
        return SearchResult(records=self.records(rows), source="snapshot", snapshot_date=self.info.date,
                            excluded_unknown=excluded, notices=notices, total=int(np.count_nonzero(selected)))

    def get(self, model_id: str) -> ModelRecord | None:
        """Exact id, else the one id equal ignoring case (Hub ids resolve case-insensitively)."""
        hits = np.flatnonzero(_numpy(pc.equal(self.table["id"].combine_chunks(), model_id)))
        if not len(hits):
            hits = np.flatnonzero(_numpy(pc.equal(self.ids_lower, model_id.lower())))
        return self.records(hits[:1])[0] if len(hits) else None

    def records(self, rows) -> list[ModelRecord]:
        return [row_to_record(row) for row in self.table.take(pa.array(rows, type=pa.int64())).to_pylist()]

    def values(self, column: str) -> list[str]:
        """Distinct non-null values of a string column, sorted."""
        return sorted(v for v in pc.unique(self.table[column]).to_pylist() if v is not None)

    # -- vectorised semantics of filters.Condition

    def _fit(self, spec: FitsOn) -> tuple[np.ndarray, np.ndarray]:
        """(fits, known) for a "fits on" filter, vectorised over every row."""
        from hfdash.hardware import fitsfilter

        if spec not in self._fits:
            if self._fit_columns is None:
                self._fit_columns = fitsfilter.columns(self.table)
            columns, mla_architecture = self._fit_columns
            self._fits[spec] = fitsfilter.fits_mask(columns, mla_architecture, spec)
        return self._fits[spec]

    def _known(self, name: str, cond: filters.Condition | None = None) -> np.ndarray:
        if name == "id":
            return np.ones(self.size, dtype=bool)
        if name == "config" and cond is not None:
            return self._fit(cond.value)[1]
        if name == "providers":
            return self.providers_known
        if name in self.categories:
            return self.categories[name][0] >= 0
        return ~np.isnan(self.numeric[name])

    def _mask(self, cond: filters.Condition) -> np.ndarray:
        if cond.op == "contains_ci":
            return self._ids_containing(cond.value)
        if cond.op == "ge":
            return self.numeric[cond.field] >= _number(cond.value)
        if cond.op == "le":
            return self.numeric[cond.field] <= _number(cond.value)
        if cond.op == "between":
            column = self.numeric[cond.field]
            return (column >= _number(cond.value[0])) & (column <= _number(cond.value[1]))
        if cond.op in ("eq", "in"):
            codes, values = self.categories[cond.field]
            wanted = {cond.value} if cond.op == "eq" else set(cond.value)
            lowered = cond.op == "in"  # licence ids compare ignoring case
            return np.isin(codes, [i for i, v in enumerate(values) if (v.lower() if lowered else v) in wanted])
        if cond.op == "any":
            return self.provider_rows[-1] if self.provider_names else np.zeros(self.size, dtype=bool)
        if cond.op == "fits":
            return self._fit(cond.value)[0]
        if cond.op == "has":
            return (self.provider_rows[self.provider_names.index(cond.value)] if cond.value in self.provider_names
                    else np.zeros(self.size, dtype=bool))
        raise AssertionError(f"unhandled condition {cond}")

    def _ids_containing(self, text: str) -> np.ndarray:
        """Rows whose folded id (filters.fold_text) contains `text`, found in one pass over all ids' bytes,
        starting from the pattern's rarest byte (arrow's match_substring goes string by string: ~4x slower at
        2M rows)."""
        pattern = np.frombuffer(text.encode(), dtype=np.uint8)
        hay, offsets = self._id_bytes, self._id_offsets
        pivot = int(np.argmin(self._byte_counts[pattern]))
        if self._byte_counts[pattern[pivot]] > 2 * self.size:  # a very common pattern: per string is cheaper
            return _numpy(pc.match_substring(self.ids_folded, text))
        starts = np.flatnonzero(hay == pattern[pivot]) - pivot
        starts = starts[(starts >= 0) & (starts + len(pattern) <= len(hay))]
        for i in range(len(pattern)):
            if i != pivot:
                starts = starts[hay[starts + i] == pattern[i]]
        rows = np.searchsorted(offsets, starts, side="right") - 1
        inside = starts + len(pattern) <= offsets[rows + 1]  # not across two ids
        mask = np.zeros(self.size, dtype=bool)
        mask[rows[inside]] = True
        return mask

    def _servable_sort(self, sort: Sort) -> tuple[Sort, str | None]:
        field = SORT_FIELD[sort]
        if field not in self.lacks:
            return sort, None
        fallback = filters.SORT_FALLBACK[sort]
        return fallback, (f"The snapshot has no {filters.FIELD_LABELS[field]}, so it cannot sort by {sort.value}; "
                          f"sorted by {fallback.value} instead. The live Hub can sort by {sort.value}.")

    def _top(self, selected: np.ndarray, field: str, limit: int) -> np.ndarray:
        """The first `limit` selected rows by value descending, ties by id ascending (= row order), unknown last."""
        column = self.numeric[field]
        rows = np.flatnonzero(selected & ~np.isnan(column))
        values = column[rows]
        if len(rows) > limit:
            # Everything at least as large as the limit-th value, so ties at the cut are all candidates.
            cut = np.partition(values, len(values) - limit)[len(values) - limit]
            rows, values = rows[values >= cut], values[values >= cut]
        ranked = rows[np.lexsort((rows, -values))][:limit]
        if len(ranked) < limit:
            unknown = np.flatnonzero(selected & np.isnan(column))
            ranked = np.concatenate([ranked, unknown[: limit - len(ranked)]])
        return ranked


def row_to_record(row: dict) -> ModelRecord:
    return ModelRecord(**{f.name: _from_cell(row[f.name], f.type) for f in RECORD_COLUMNS},
                       config=ModelConfig(**{name: row[name] for name in CONFIG_FIELDS}))


def _from_cell(value, type_: object):
    annotation = str(type_)
    if value is None:
        return None if annotation.endswith("| None") else ()
    if annotation.startswith("tuple[ProviderOffer"):
        return tuple(ProviderOffer(**offer) for offer in value)
    if annotation.startswith("tuple"):
        return tuple(value)
    if annotation.startswith("dict"):
        return dict(value)
    return value


_NUMPY_TYPES = {pa.int32(): np.int32, pa.int64(): np.int64, pa.uint64(): np.uint64, pa.float64(): np.float64}


def _numpy(array: pa.Array, fill=False) -> np.ndarray:
    """A primitive arrow array as numpy, nulls replaced by `fill`, straight from its buffers.

    pyarrow's own to_numpy / fill_null import pandas (~0.3 s), which the CLI and the bench do not need.
    """
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    validity, data = array.buffers()[:2]
    if pa.types.is_boolean(array.type):
        values = _bits(data, array.offset, len(array))
    else:
        values = np.frombuffer(data, dtype=_NUMPY_TYPES[array.type])[array.offset:array.offset + len(array)]
    if array.null_count:
        values = np.where(_bits(validity, array.offset, len(array)), values, fill)
    return values


def _string_buffers(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's bytes and its n+1 offsets into them."""
    offsets_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, dtype=offsets_type)[array.offset:array.offset + len(array) + 1]
    hay = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return hay, offsets.astype(np.int64)


def _folded(ids_lower: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """The ids with every separator byte a dash (filters.fold_text), as an arrow array and as its bytes and
    offsets; a byte lookup keeps every id's length, so the offsets are the lower-cased ids' own."""
    hay, offsets = _string_buffers(ids_lower)
    table = np.arange(256, dtype=np.uint8)
    table[np.frombuffer(filters.SEPARATORS.encode(), dtype=np.uint8)] = ord("-")
    folded = table[hay]
    array = pa.Array.from_buffers(pa.large_string(), len(ids_lower),
                                  [None, pa.py_buffer(offsets), pa.py_buffer(folded)])
    return array, folded, offsets


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")[offset:offset + length].view(bool)


def _sorted(ids: pa.ChunkedArray) -> bool:
    ids = ids.combine_chunks()
    return len(ids) < 2 or pc.all(pc.greater_equal(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py()


def _as_float(column: pa.ChunkedArray) -> np.ndarray:
    """Numbers (and dates as day numbers) as float64 with NaN for unknown: comparisons with NaN never match."""
    array = column.combine_chunks()
    if pa.types.is_date32(array.type):
        array = array.view(pa.int32())
    return _numpy(array.cast(pa.float64()), fill=np.nan)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Dictionary codes (-1 = unknown) and the values they index."""
    encoded = column.combine_chunks().dictionary_encode()
    codes = _numpy(encoded.indices.cast(pa.int32()), fill=-1)
    return codes, encoded.dictionary.to_pylist()


def _provider_index(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str], list[np.ndarray]]:
    """Known mask, provider names, one row mask per provider and (last) one for 'any provider'."""
    array = column.combine_chunks()
    size = len(array)
    known = _numpy(array.is_valid())
    flat = pc.list_flatten(array)
    parent = _numpy(pc.list_parent_indices(array))
    names = sorted(v for v in pc.unique(flat).to_pylist() if v is not None)
    masks = []
    for name in names:
        mask = np.zeros(size, dtype=bool)
        mask[parent[_numpy(pc.equal(flat, name))]] = True
        masks.append(mask)
    any_mask = np.zeros(size, dtype=bool)
    any_mask[parent] = True
    return known, names, masks + [any_mask]


def _number(value) -> float:
    if isinstance(value, dt.date):
        return float((value - dt.date(1970, 1, 1)).days)
    return float(value)


# ---------------------------------------------------------------- loading, cached per path + mtime

_cache: dict[Path, tuple[tuple[int, int] | None, Snapshot]] = {}
_cache_lock = threading.Lock()


def load(path: str | Path) -> Snapshot:
    """The snapshot at `path`, loaded once per process and reloaded only when the file changes."""
    path = Path(path).resolve()
    try:
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = None
    with _cache_lock:
        cached = _cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
    snapshot = Snapshot(*read_table(path))
    with _cache_lock:
        _cache[path] = (stamp, snapshot)
    return snapshot
