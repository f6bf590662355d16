"""`python -m model_build <capability> [--publish]` trains a capability's models (same as `commerce-ai train`)."""

from __future__ import annotations

import sys

from infra.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
