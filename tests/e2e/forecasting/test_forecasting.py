"""Forecasting from outside: the seeded OJ SKU's forecast, its chart (PNG and SVG), a what-if plan, its
inventory policy and an allocation across seeded stores over HTTP against `commerce-ai up`, a sales file
uploaded to the uploads bucket and forecast beside it, and the offline CLI on the seed's `date,sales`
example."""

from __future__ import annotations

import json
import math
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import Running, console_script, until
from tests.support.forecasting import daily_sales_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_the_seeded_sku_has_a_forecast_a_what_if_and_a_policy(running: Running) -> None:
    operator = running.headers("operator")
    assert requests.get(f"{running.http}/forecasts/oj-2-1", timeout=30).status_code == 401
    forecast = requests.get(f"{running.http}/forecasts/oj-2-1", headers=operator, timeout=30)
    assert forecast.status_code == 200, forecast.text
    periods = forecast.json()["periods"]
    assert len(periods) == 8 and all(p["p10"] <= p["p50"] <= p["p90"] for p in periods)

    plan = {"sku": "oj-2-1", "prices": [1.49, 1.49], "promotions": [1, 1]}
    what_if = requests.post(f"{running.http}/forecasts/what-if", json=plan, headers=operator, timeout=30)
    assert what_if.status_code == 200, what_if.text

    policy = requests.get(f"{running.http}/inventory/oj-2-1/policy", headers=operator, timeout=30)
    assert policy.status_code == 200, policy.text
    assert policy.json()["order_up_to"] >= policy.json()["expected_demand"]
    assert requests.get(f"{running.http}/inventory/oj-2-1/policy", timeout=30).status_code == 401


def test_the_seeded_skus_forecast_is_drawn_as_png_or_svg(running: Running) -> None:
    operator = running.headers("operator")
    plot = requests.get(f"{running.http}/forecasts/oj-2-1/plot", headers=operator, timeout=30)  # Accept: */*
    assert plot.status_code == 200 and plot.headers["Content-Type"] == "image/png", plot.text[:200]
    assert plot.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = requests.get(
        f"{running.http}/forecasts/oj-2-1/plot", headers={"Accept": "image/svg+xml", **operator}, timeout=30
    )
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and svg.text.rstrip().endswith("</svg>")


def test_a_dcs_stock_is_allocated_across_the_seeded_stores(running: Running) -> None:
    stores = ["oj-2-1", "oj-5-1", "oj-8-1"]
    plan = requests.post(
        f"{running.http}/inventory/allocations",
        json={"supply": 300, "skus": stores},
        headers={"x-api-key": running.admin_key},
        timeout=30,
    )
    assert plan.status_code == 200, plan.text
    assert plan.json()["allocated"] == 300 and [s["sku"] for s in plan.json()["stores"]] == stores
    # The policy is the build's product: the active `forecasting-allocation` version, its verdict recorded.
    model = requests.get(f"{running.http}/models/forecasting-allocation", timeout=30).json()
    assert plan.json()["policy_version"] == model["active_version"]
    active = next(v for v in model["versions"] if v["version"] == model["active_version"])
    assert (plan.json()["served_policy"] == "learned") == (active["metrics"]["learned_served"] == 1.0)
    anonymous = requests.post(f"{running.http}/inventory/allocations", json={"supply": 3, "skus": stores}, timeout=30)
    assert anonymous.status_code == 401


def test_an_uploaded_sales_file_is_forecast_beside_it(running: Running) -> None:
    s3 = running.client("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "-uploads-" in b["Name"])
    key = "uploads/forecasts/e2e-sales.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=daily_sales_csv(120).encode(), Metadata={"periods": "14"})

    def finished() -> dict[str, object] | None:
        try:
            body = s3.get_object(Bucket=bucket, Key=f"{key}.status.json")["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        status: dict[str, object] = json.loads(body)
        return status if status["status"] != "running" else None

    status = until(finished, timeout=300)
    assert status["status"] == "forecast", status
    forecast = s3.get_object(Bucket=bucket, Key=f"{key}.forecast.csv")["Body"].read().decode().splitlines()
    assert forecast[0] == "date,p10,p50,p90" and len(forecast) == 15
    assert s3.get_object(Bucket=bucket, Key=f"{key}.plot.png")["Body"].read()[:4] == b"\x89PNG"


def test_the_cli_forecasts_the_seeds_sales_file_offline(tmp_path: Path) -> None:
    sales = tmp_path / "sales_data.csv"
    start = date(2025, 1, 1)
    rows = [f"{start + timedelta(days=i)},{100 + 30 * math.sin(2 * math.pi * i / 7) + 0.1 * i:.1f}" for i in range(200)]
    sales.write_text("date,sales\n" + "\n".join(rows) + "\n")
    out, plot = tmp_path / "forecast.csv", tmp_path / "forecast.png"
    done = subprocess.run(
        [*console_script(), "forecast", str(sales), "--periods", "30", "--out", str(out), "--plot", str(plot)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "date,p10,p50,p90" and len(lines) == 31
    assert lines[1].startswith(str(start + timedelta(days=200)))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
