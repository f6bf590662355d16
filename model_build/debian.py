"""Data files that Debian packages ship, fetched once into a cache with `apt-get download` and `dpkg -x`
(no root, nothing installed) and verified by sha256: pricing's Dominick's orange juice (`r-cran-bayesm`)
and visual search's Fashion-MNIST (`dataset-fashion-mnist`).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path


class PackageDataError(RuntimeError):
    """The package could not be fetched, or a file in it is not the verified one."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached(cache: Path, files: dict[str, str]) -> bool:
    """Whether every file of `files` (name -> sha256) is in `cache` and verified."""
    return all((cache / name).is_file() and sha256(cache / name) == digest for name, digest in files.items())


def fetch_package_files(package: str, member_dir: str, files: dict[str, str], cache: Path) -> Path:
    """`cache`, holding `files` (name -> sha256) copied from `member_dir` inside Debian package `package`,
    fetched only when a file is missing or differs."""
    if cached(cache, files):
        return cache
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise PackageDataError(f"apt-get and dpkg are needed to fetch {package} (Debian/Ubuntu)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        download = subprocess.run(["apt-get", "download", package], cwd=work, capture_output=True, text=True)
        if download.returncode != 0:
            # A new machine has no package lists yet; one update, then try once more.
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True, check=False)
            download = subprocess.run(["apt-get", "download", package], cwd=work, capture_output=True, text=True)
        if download.returncode != 0:
            raise PackageDataError(f"apt-get download {package} failed: {download.stderr.strip()[-400:]}")
        (deb,) = work.glob(f"{package}_*.deb")
        subprocess.run(["dpkg", "-x", str(deb), str(work / "x")], check=True, capture_output=True)
        for name, digest in files.items():
            extracted = work / "x" / member_dir / name
            if sha256(extracted) != digest:
                raise PackageDataError(f"{deb.name}: {name} checksum {sha256(extracted)} is not the verified one")
            shutil.copyfile(extracted, cache / name)
    return cache
