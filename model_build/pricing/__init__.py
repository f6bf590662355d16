"""Pricing models: demand and elasticity from Dominick's orange juice (or a user's own sales file).

`build` trains the demand models on OJ (or the given sales CSV) and exports the one more accurate on
holdout (LightGBM for OJ) to ONNX with its serving table as `pricing-demand`; `seed` fills the pricing
catalog from that table's SKUs; `evaluate` writes `reports/pricing.md` (demand accuracy, elasticities,
the policy study).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built

MODELS: list[str] = ["pricing-demand"]


def build(workdir: Path, data: Path | None = None) -> list[Built]:
    """Train on Dominick's OJ, or on `data`: a user's own sales CSV (`commerce-ai train pricing --data F`)."""
    from model_build.pricing.data import OJ_PACKAGE, read_orange_juice, read_sales_csv
    from model_build.pricing.demand import compare
    from model_build.pricing.export import build_demand_artifact
    from model_build.progress import stage

    with stage("read sales data"):
        if data is None:
            frame, source = read_orange_juice(), f"Dominick's orange juice (Debian {OJ_PACKAGE}, orangeJuice.rda)"
        else:
            frame, source = read_sales_csv(data), f"sales file {data.name}"
    with stage("fit demand models, compare on holdout"):
        comparison = compare(frame)
    with stage("export the better one to ONNX"):
        return [build_demand_artifact(frame, comparison, workdir, source)]


def build_inputs() -> dict[str, str]:
    """What determines `build` besides its code (the build cache's key): the data file's checksum."""
    from model_build.pricing.data import OJ_SHA256

    return {"data:orangeJuice.rda sha256": OJ_SHA256}


def seed(stack: Stack, cache_dir: Path) -> str:
    """Add the active demand model's SKUs to the pricing catalog (existing SKUs are left as they are)."""
    from commerce_ai.artifacts.registry import ModelRegistry
    from commerce_ai.artifacts.store import ArtifactStore
    from commerce_ai.pricing.catalog import CatalogStore
    from commerce_ai.pricing.seeding import seed_catalog

    added = seed_catalog(
        CatalogStore(stack.physical_name("PricingCatalogTable")),
        ArtifactStore(stack.physical_name("ArtifactBucket")),
        ModelRegistry(stack.physical_name("ModelRegistryTable")),
        cache_dir,
    )
    return f"pricing catalog: {added} SKU(s) added" if added is not None else "pricing catalog: no demand model yet"


def evaluate(report_dir: Path) -> Path:
    from model_build.pricing.report import write_report

    return write_report(report_dir)
