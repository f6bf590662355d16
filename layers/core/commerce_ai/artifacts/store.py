"""S3 adapter for artifact versions: publish, read manifests, download and verify files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
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


# A read of a key that does not exist is a 404 only to a role that may list the bucket without a prefix
# condition; the functions' roles may not (S3 list grants carry `s3:prefix` conditions, README "Least
# privilege"), so to them S3 answers 403. Every function that reads artifacts may read every key it asks
# for (tests/unit/platform/test_iam_agreement.py checks each call against its policy), so a 403 on a read
# here is a missing key: the version is not loaded or validated, which is the safe side. Writes never rely
# on this: `publish` asks whether a version exists by listing its own prefix, not by reading it.
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_DENIED_READ = {"403", "AccessDenied", "Forbidden"}


def _missing(error: ClientError) -> bool:
    """A read that found nothing: 404, or the 403 S3 gives a role without an unconditioned list grant."""
    return error.response.get("Error", {}).get("Code") in _NOT_FOUND | _DENIED_READ


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
        if self._exists(prefix + MANIFEST_FILE):
            raise ArtifactError(f"{manifest.name}/{manifest.version} already exists; versions are immutable")
        for relative in manifest.files:
            self.s3.upload_file(str(source_dir / relative), self.bucket, prefix + relative)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=prefix + MANIFEST_FILE,
            Body=manifest.model_dump_json(indent=2).encode(),
            ContentType="application/json",
        )
        return prefix + MANIFEST_FILE

    def _exists(self, key: str) -> bool:
        """Whether `key` is in the bucket, by listing it (the publisher's list grant is conditioned on its own
        model's prefix): a 403 is then an error, never taken for "absent" and written over."""
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(item["Key"] == key for item in listed.get("Contents", []))

    def read_manifest(self, name: str, version: str, object_version: str | None = None) -> Manifest:
        """The version's manifest; with `object_version` (the S3 object version recorded at validation),
        refused unless the manifest in the bucket is still that object."""
        key = version_prefix(name, version) + MANIFEST_FILE
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise ArtifactFileMissing(f"no manifest at {key} (missing, or not readable by this function)") from exc
            raise
        if object_version is not None and response.get("VersionId") != object_version:
            raise ArtifactError(f"{name}/{version}: {MANIFEST_FILE} was replaced after validation")
        try:
            manifest = Manifest.model_validate(json.loads(response["Body"].read()))
        except (ValueError, ValidationError) as exc:
            raise ArtifactError(f"manifest {key} is invalid: {exc}") from exc
        if (manifest.name, manifest.version) != (name, version):
            raise ArtifactError(f"manifest at {key} names {manifest.name}/{manifest.version}, not {name}/{version}")
        return manifest

    def object_versions(self, manifest: Manifest) -> dict[str, str]:
        """The S3 object version of the manifest and of each file, where the bucket keeps versions (the
        artifact bucket does): what validation pins, so a file overwritten later is refused by its
        version before its checksum is even computed. Empty for a bucket without versioning."""
        found: dict[str, str] = {}
        for relative in [MANIFEST_FILE, *manifest.files]:
            try:
                head = self.s3.head_object(Bucket=self.bucket, Key=manifest.prefix() + relative)
            except ClientError as exc:
                if _missing(exc):
                    continue  # the download says so (ArtifactFileMissing), which may mean "not yet"
                raise
            if head.get("VersionId") not in (None, "null"):
                found[relative] = head["VersionId"]
        return found

    def download(self, manifest: Manifest, cache_root: Path, object_versions: Mapping[str, str] | None = None) -> Path:
        """Fetch a version into `cache_root/<name>/<version>/` and verify every checksum.

        Files already cached with the right checksum are reused, so a warm container or a restarted
        local worker does not download twice. Anything that fails verification is deleted. With
        `object_versions` (recorded at validation), a file that is no longer that S3 object is refused.
        """
        pinned = object_versions or {}
        target = cache_root / manifest.name / manifest.version
        target.mkdir(parents=True, exist_ok=True)
        for relative, entry in manifest.files.items():
            local = target / relative
            if local.is_file() and sha256_file(local) == entry.sha256 and relative not in pinned:
                continue
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(local.name + ".part")
            key = manifest.prefix() + relative
            try:
                # Check the size first, so a manifest cannot make us fill /tmp with an unexpected object.
                head = self.s3.head_object(Bucket=self.bucket, Key=key)
                size = int(head["ContentLength"])
                if size != entry.bytes:
                    raise ArtifactError(
                        f"{manifest.name}/{manifest.version}: checksum mismatch for {relative} "
                        f"(it is {size} bytes, the manifest says {entry.bytes})"
                    )
                if relative in pinned and head.get("VersionId") != pinned[relative]:
                    raise ArtifactError(f"{manifest.name}/{manifest.version}: {relative} was replaced after validation")
                if local.is_file() and sha256_file(local) == entry.sha256:
                    continue
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
