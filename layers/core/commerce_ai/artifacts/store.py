"""S3 adapter for artifact versions: publish, read manifests, download and verify files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from commerce_ai import aws
from commerce_ai.artifacts.manifest import (
    MANIFEST_FILE,
    Manifest,
    parse_manifest_key,
    sha256_file,
    version_prefix,
)


class ArtifactError(Exception):
    """An artifact version is missing, unreadable or does not match its manifest."""


class ArtifactFileMissing(ArtifactError):
    """A file the manifest names is not in the bucket: not uploaded yet, or deleted."""


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class ArtifactStore:
    s3 = aws.ClientAttribute("s3")

    def __init__(self, bucket: str, s3: Any | None = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    def publish(self, manifest: Manifest, source_dir: Path) -> str:
        """Upload every file, then the manifest last: its arrival is what announces the version.

        A version is immutable, so publishing over an existing manifest is refused.
        """
        prefix = manifest.prefix()
        try:
            self.s3.head_object(Bucket=self.bucket, Key=prefix + MANIFEST_FILE)
            raise ArtifactError(f"{manifest.name}/{manifest.version} already exists; versions are immutable")
        except ClientError as exc:
            if not _missing(exc):
                raise
        for relative in manifest.files:
            self.s3.upload_file(str(source_dir / relative), self.bucket, prefix + relative)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=prefix + MANIFEST_FILE,
            Body=manifest.model_dump_json(indent=2).encode(),
            ContentType="application/json",
        )
        return prefix + MANIFEST_FILE

    def read_manifest(self, name: str, version: str) -> Manifest:
        key = version_prefix(name, version) + MANIFEST_FILE
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                raise ArtifactError(f"no manifest at s3://{self.bucket}/{key}") from exc
            raise
        try:
            manifest = Manifest.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            raise ArtifactError(f"manifest s3://{self.bucket}/{key} is invalid: {exc}") from exc
        if (manifest.name, manifest.version) != (name, version):
            raise ArtifactError(f"manifest at {key} names {manifest.name}/{manifest.version}, not {name}/{version}")
        return manifest

    def download(self, manifest: Manifest, cache_root: Path) -> Path:
        """Fetch a version into `cache_root/<name>/<version>/` and verify every checksum.

        Files already cached with the right checksum are reused, so a warm container or a restarted
        local worker does not download twice. Anything that fails verification is deleted.
        """
        target = cache_root / manifest.name / manifest.version
        target.mkdir(parents=True, exist_ok=True)
        for relative, entry in manifest.files.items():
            local = target / relative
            if local.is_file() and sha256_file(local) == entry.sha256:
                continue
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(local.name + ".part")
            key = manifest.prefix() + relative
            try:
                # Check the size first, so a manifest cannot make us fill /tmp with an unexpected object.
                size = int(self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
                if size != entry.bytes:
                    raise ArtifactError(
                        f"{manifest.name}/{manifest.version}: checksum mismatch for {relative} "
                        f"(it is {size} bytes, the manifest says {entry.bytes})"
                    )
                self.s3.download_file(self.bucket, key, str(partial))
            except ClientError as exc:
                partial.unlink(missing_ok=True)
                if _missing(exc):
                    raise ArtifactFileMissing(
                        f"{manifest.name}/{manifest.version}: cannot fetch {relative}: missing"
                    ) from exc
                raise  # throttling or a 5xx says nothing about the artifact: let the caller retry
            actual = sha256_file(partial)
            if actual != entry.sha256:
                partial.unlink(missing_ok=True)
                raise ArtifactError(
                    f"{manifest.name}/{manifest.version}: checksum mismatch for {relative} "
                    f"(manifest {entry.sha256[:12]}, got {actual[:12]})"
                )
            partial.replace(local)
        return target

    def manifest_keys(self) -> Iterator[tuple[str, str]]:
        """(name, version) of every manifest in the bucket."""
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix="models/"):
            for item in page.get("Contents", []):
                parsed = parse_manifest_key(item["Key"])
                if parsed:
                    yield parsed


def clear_cache(cache_root: Path, name: str, version: str) -> None:
    shutil.rmtree(cache_root / name / version, ignore_errors=True)
