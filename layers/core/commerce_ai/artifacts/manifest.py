"""The manifest that travels with every artifact version (`models/<name>/<version>/manifest.json`)."""

from __future__ import annotations

import hashlib
import posixpath
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commerce_ai.api_fields import identifier_pattern

MANIFEST_FILE = "manifest.json"
# Model names and versions are path segments (`/models/{name}/...`) and S3 key parts (api_fields' identifiers)
NAME_PATTERN = identifier_pattern("-", 63, lowercase=True)
VERSION_PATTERN = identifier_pattern("._-", 64)
Framework = Literal["onnx", "faiss", "booster", "json"]
# Caps on what a version may make a function download: Lambda's /tmp is 512 MB unless a function asks for
# more, and it holds the version being loaded beside the one serving. A manifest over them is refused
# (quarantined at validation) before anything is fetched.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_VERSION_BYTES = 240 * 1024 * 1024


class TensorSpec(BaseModel):
    """One named tensor: dtype and shape, where `None` is a free (batch) dimension."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    dtype: Literal["float32", "float64", "int32", "int64", "string", "bool"]
    shape: list[int | None]


class InputSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tensors: list[TensorSpec] = Field(min_length=1)
    # Column names of the first tensor's last axis: the contract between the feature code and the model.
    feature_names: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _features_fit_first_tensor(self) -> InputSchema:
        if self.feature_names:
            width = self.tensors[0].shape[-1] if self.tensors[0].shape else None
            if width is not None and width != len(self.feature_names):
                raise ValueError(
                    f"{len(self.feature_names)} feature names but tensor {self.tensors[0].name!r} has width {width}"
                )
            if len(set(self.feature_names)) != len(self.feature_names):
                raise ValueError("feature names are not unique")
        return self


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0, le=MAX_FILE_BYTES)


class TrainingData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fingerprint: str = Field(min_length=1, description="sha256 of the training data as read")
    source: str = Field(min_length=1)
    rows: int | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    version: str = Field(pattern=VERSION_PATTERN)
    created_at: datetime
    git_commit: str = Field(min_length=1)
    framework: Framework
    entrypoint: str = Field(min_length=1, description="the file the loader opens, e.g. model.onnx")
    input_schema: InputSchema
    output_schema: list[TensorSpec] = Field(min_length=1)
    training_data: TrainingData
    metrics: dict[str, float] = Field(default_factory=dict)
    files: dict[str, FileEntry] = Field(min_length=1)

    @field_validator("files")
    @classmethod
    def _safe_paths(cls, files: dict[str, FileEntry]) -> dict[str, FileEntry]:
        for path in files:
            canonical = posixpath.normpath(path) if path else ""
            if (
                not path
                or path != canonical
                or path.startswith("/")
                or ".." in Path(path).parts
                or canonical in (".", MANIFEST_FILE)
            ):
                raise ValueError(f"file path {path!r} must be relative, inside the version and not the manifest")
        folders = {str(parent) for path in files for parent in Path(path).parents if str(parent) != "."}
        clashes = sorted(folders & set(files))
        if clashes:
            raise ValueError(f"file path {clashes[0]!r} is also a folder of another file")
        return files

    @model_validator(mode="after")
    def _within_size_cap(self) -> Manifest:
        total = sum(entry.bytes for entry in self.files.values())
        if total > MAX_VERSION_BYTES:
            raise ValueError(f"the files add up to {total} bytes, over the cap of {MAX_VERSION_BYTES} per version")
        return self

    @model_validator(mode="after")
    def _entrypoint_listed(self) -> Manifest:
        if self.entrypoint not in self.files:
            raise ValueError(f"entrypoint {self.entrypoint!r} is not among the manifest's files")
        return self

    def prefix(self) -> str:
        return version_prefix(self.name, self.version)

    def summary(self) -> dict[str, Any]:
        """What the registry keeps about a version, without the per-file detail."""
        return {
            "framework": self.framework,
            "created_at": self.created_at.isoformat(),
            "git_commit": self.git_commit,
            "metrics": self.metrics,
            "training_data": self.training_data.model_dump(),
            "feature_names": self.input_schema.feature_names,
        }


def version_prefix(name: str, version: str) -> str:
    return f"models/{name}/{version}/"


def parse_manifest_key(key: str) -> tuple[str, str] | None:
    """(name, version) for a key `models/<name>/<version>/manifest.json` with valid ids, else None."""
    match = re.fullmatch(r"models/([^/]+)/([^/]+)/manifest\.json", key)
    if not match:
        return None
    name, version = match.group(1), match.group(2)
    # Only names and versions a manifest could carry: anything else (e.g. `#active`, the registry's
    # pointer key) is not a model version and must never reach the registry.
    if not re.fullmatch(NAME_PATTERN, name) or not re.fullmatch(VERSION_PATTERN, version):
        return None
    return name, version


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_files(directory: Path) -> dict[str, FileEntry]:
    """Checksums of every file under `directory`, keyed by relative POSIX path."""
    entries: dict[str, FileEntry] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative == MANIFEST_FILE:
            continue
        entries[relative] = FileEntry(sha256=sha256_file(path), bytes=path.stat().st_size)
    return entries


def new_version(now: datetime | None = None, commit: str | None = None) -> str:
    """A sortable, unique version id: UTC time, the short commit that built it, and a random suffix
    (two builds in the same second must not share a version: versions are immutable)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    source = commit[:8] if commit and commit != "unknown" else "nocommit"
    return f"{stamp}-{source}-{secrets.token_hex(3)}"
