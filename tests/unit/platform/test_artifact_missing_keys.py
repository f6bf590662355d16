"""A missing artifact key without a list grant (issue 18, part 5: S3 list permissions carry prefix conditions,
so a function that only reads models may not list the bucket): S3 answers 403 where a lister gets 404.
Reads take either for "missing" (the version is not loaded or validated); a write never does."""

from __future__ import annotations

from pathlib import Path

import pytest

from commerce_ai.artifacts.store import ArtifactFileMissing, ArtifactStore
from tests.unit.fakes import FakeS3, client_error, make_manifest

BUCKET = "artifacts"


@pytest.mark.parametrize("missing_code", ["403", "404"])
def test_a_missing_key_is_missing_whether_s3_says_403_or_404(missing_code: str, tmp_path: Path) -> None:
    s3 = FakeS3()
    s3.missing_code = missing_code
    store = ArtifactStore(BUCKET, s3=s3)
    with pytest.raises(ArtifactFileMissing, match=r"no manifest at models/demo-scorer/v1/manifest\.json"):
        store.read_manifest("demo-scorer", "v1")
    manifest = make_manifest(files={"model.json": ("0" * 64, 3)})
    assert store.object_versions(manifest) == {}
    with pytest.raises(ArtifactFileMissing, match=r"cannot fetch model\.json: missing"):
        store.download(manifest, tmp_path)


def test_publish_asks_by_listing_its_own_key_and_never_takes_a_refusal_for_absent(tmp_path: Path) -> None:
    s3 = FakeS3()
    store = ArtifactStore(BUCKET, s3=s3)
    (tmp_path / "model.json").write_text("{}")
    manifest = make_manifest(files={"model.json": ("0" * 64, 2)})
    # A list refused (no grant on this prefix) is an error: nothing is uploaded over what may be there.
    s3.fail_on["ListObjectsV2"] = client_error("AccessDenied", "ListObjectsV2")
    with pytest.raises(Exception, match="AccessDenied"):
        store.publish(manifest, tmp_path)
    assert s3.objects == {}
    # Allowed, the list names exactly the manifest's key: what the publisher's s3:prefix condition admits.
    s3.fail_on.clear()
    store.publish(manifest, tmp_path)
    listed = [params["Prefix"] for operation, params in s3.log if operation == "ListObjectsV2"]
    assert listed[-1] == "models/demo-scorer/v1/manifest.json"
    assert not any(operation == "HeadObject" for operation, _ in s3.log)
