"""Uploaded files: what is accepted, the content check, and storage outside the database.

Files are stored under their SHA-256 (`<upload_dir>/ab/abcdef…`), written to a temporary name
and renamed into place, so a reader never sees half a file and the same bytes are kept once.
The file is written before the database row that points at it: a request that fails later
leaves at most an unreferenced file, never a row without its file.
"""

import hashlib
import json
import os
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from starlette.datastructures import UploadFile

from lms_api.curriculum.enums import DeliverableKind
from lms_api.errors import (
    EmptyFile,
    FileTooLarge,
    InvalidFile,
    InvalidNotebook,
    UnsupportedFileType,
)
from lms_api.nesting import MAX_DEPTH, TooDeep, check_json_depth

CHUNK = 1024 * 1024
NOTEBOOK_TYPE = "application/x-ipynb+json"

# Extension -> (content type we serve it with, leading bytes it must start with or None for text)
_BINARY = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".zip": ("application/zip", (b"PK\x03\x04", b"PK\x05\x06")),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}
_TEXT = {
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".py": "text/x-python",
    ".sql": "application/sql",
    ".json": "application/json",
}
FILE_EXTENSIONS = tuple(sorted([*_BINARY, *_TEXT, ".ipynb"]))


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


# Removed from file names: control characters (C0, DEL, C1), format characters such as the
# bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), the marks U+200E/U+200F
# and zero-width characters, and line/paragraph separators. A name like
# "report\u202efdp.exe" would otherwise show as "reportexe.pdf" in a download dialog.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def visible_name(name: str) -> str:
    """`name` without the characters that hide or reorder what a reader sees."""
    return "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)


def clean_filename(raw: str | None) -> str:
    """The base name only (no folders, no control or bidirectional characters), at most 255
    characters."""
    name = PureWindowsPath(PurePosixPath(raw or "").name).name
    name = visible_name(name).strip()
    if not name or name in (".", ".."):
        raise InvalidFile("The uploaded file has no file name.")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot else name[:255]
    return name


async def read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    """The whole upload, or 413 as soon as it passes `max_bytes` (never more is kept)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(max_bytes: int) -> FileTooLarge:
    return FileTooLarge(
        f"The file is larger than the limit of {human_size(max_bytes)}; "
        "make it smaller (e.g. clear notebook outputs, compress data) and upload again.",
        details={"max_bytes": max_bytes},
    )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _unsupported(
    filename: str, kind: str, accepted: tuple[str, ...], why: str
) -> UnsupportedFileType:
    return UnsupportedFileType(
        f"{filename!r} is not accepted for a {kind} deliverable: {why}. "
        f"Accepted: {', '.join(accepted)}.",
        details={"filename": filename, "accepted": list(accepted)},
    )


def _check_notebook(filename: str, data: bytes) -> None:
    import nbformat  # on the first notebook: it imports jsonschema's format checkers (~1 s)

    try:
        text = data.decode("utf-8")
        check_json_depth(text, "The notebook")
        notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        nbformat.validate(notebook)
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(
            f"{filename!r} is not a Jupyter notebook: it is not UTF-8 text."
        ) from exc
    except Exception as exc:  # nbformat raises several kinds (JSON, schema, version)
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise InvalidNotebook(
            f"{filename!r} is not a valid Jupyter notebook ({reason}). "
            "Save it from JupyterLab (File > Save) and upload the .ipynb file again."
        ) from exc


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_upload(kind: str, raw_filename: str | None, data: bytes) -> CheckedFile:
    """Accept the bytes for a notebook/file deliverable or raise a DomainError saying why not.

    The content type is decided here from the checked content, never taken from the client.
    """
    filename = clean_filename(raw_filename)
    if not data:
        raise EmptyFile(f"{filename!r} is empty.")
    ext = Path(filename).suffix.lower()
    if kind == DeliverableKind.NOTEBOOK and ext != ".ipynb":
        raise _unsupported(filename, kind, (".ipynb",), "a notebook must be an .ipynb file")
    if ext == ".ipynb":
        _check_notebook(filename, data)
        return CheckedFile(filename, NOTEBOOK_TYPE, data)
    if ext in _BINARY:
        content_type, signatures = _BINARY[ext]
        if not data.startswith(signatures):
            raise _unsupported(
                filename, kind, FILE_EXTENSIONS, f"its content is not a {ext[1:].upper()} file"
            )
        return CheckedFile(filename, content_type, data)
    if ext in _TEXT:
        if not _is_text(data):
            raise _unsupported(filename, kind, FILE_EXTENSIONS, "it is not UTF-8 text")
        if ext == ".json":
            try:
                check_json_depth(data.decode("utf-8"))
                json.loads(data)
            except TooDeep as exc:
                why = f"it nests more than {MAX_DEPTH} levels deep"
                raise _unsupported(filename, kind, FILE_EXTENSIONS, why) from exc
            except ValueError as exc:
                raise _unsupported(filename, kind, FILE_EXTENSIONS, "it is not valid JSON") from exc
        return CheckedFile(filename, _TEXT[ext], data)
    raise _unsupported(
        filename, kind, FILE_EXTENSIONS, f"type {ext or '(none)'!r} is not on the list"
    )


class FileStore:
    """Content-addressed files on disk (a shared volume when lms-api has replicas)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def save(self, data: bytes) -> str:
        """Store `data` (once) and return its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_of(digest)
        if target.exists():
            # Fresh again: the upload sweep keeps files younger than its grace period, and
            # this one is about to be pointed at.
            os.utime(target)
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o640)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest


def sweep_unreferenced(root: Path, referenced: set[str], grace_seconds: float) -> list[Path]:
    """Delete stored files no submission version points at, and temporary files left by a
    crash, once older than `grace_seconds`.

    A request writes its file before the row that points at it, so a request that failed
    after that leaves an orphan (never served: nothing refers to it). The grace period keeps
    the file of a request still in flight. Returns what was deleted.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    cutoff = time.time() - grace_seconds
    deleted = []
    for path in sorted(root.glob("??/*")):
        try:
            stale = path.is_file() and path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue
        if stale and (path.name.startswith(".upload-") or path.name not in referenced):
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted
