"""A sales file uploaded under `uploads/forecasts/`: options from its metadata, results and a status beside
it, a refused file rejected with its line and no results left, our own results not taken for uploads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from commerce_ai.forecasting.sales_csv import read_sales
from commerce_ai.forecasting.sales_uploads import (
    ForecastOutputs,
    UploadRejected,
    forecast_upload,
    is_sales_upload,
    options,
)
from commerce_ai.uploads import Uploads
from tests.support.forecasting import daily_sales_csv
from tests.unit.fakes import FakeS3

BUCKET, KEY = "uploads", "uploads/forecasts/sales_data.csv"
NOW = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)


def stand_in(text: str, periods: int, freq: str | None) -> ForecastOutputs:
    """Reads the file as the real forecaster does (so its errors are the real ones), forecasts flat."""
    sales = read_sales(text, freq=freq)
    return ForecastOutputs(sales.freq, len(sales.series), "series", "date,p10,p50,p90\n" * periods, b"\x89PNG")


def upload(s3: FakeS3, body: bytes, metadata: dict[str, str] | None = None) -> dict[str, object]:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, Metadata=metadata)
    forecast_upload(Uploads(BUCKET, s3=s3), KEY, stand_in, lambda: NOW)
    status: dict[str, object] = json.loads(s3.objects[(BUCKET, KEY + ".status.json")])
    return status


def test_a_good_file_gets_its_forecast_plot_and_status_beside_it() -> None:
    s3 = FakeS3()
    status = upload(s3, daily_sales_csv(40).encode(), {"periods": "7", "freq": "d"})
    assert status["status"] == "forecast" and (status["periods"], status["freq"], status["series"]) == (7, "D", 1)
    assert status["forecast"] == KEY + ".forecast.csv" and status["plot"] == KEY + ".plot.png"
    assert s3.objects[(BUCKET, KEY + ".forecast.csv")].count(b"\n") == 7
    writes = [params["Key"] for op, params in s3.log if op == "PutObject"][1:]
    assert writes[0] == KEY + ".status.json" and writes[-1] == KEY + ".status.json"  # running first, result last


def test_a_refused_file_is_rejected_with_its_line_and_leaves_no_results() -> None:
    s3 = FakeS3()
    upload(s3, daily_sales_csv(40).encode())
    status = upload(s3, b"date,sales\n2026-01-01,3\n2026-01-02,-1\n")
    assert status["status"] == "rejected" and status["problem"] == "line 3: sales -1 is negative"
    assert (BUCKET, KEY + ".forecast.csv") not in s3.objects and (BUCKET, KEY + ".plot.png") not in s3.objects


def test_bad_options_and_a_non_text_file_are_rejected() -> None:
    s3 = FakeS3()
    status = upload(s3, daily_sales_csv(40).encode(), {"periods": "0"})
    assert status["status"] == "rejected" and "periods '0'" in str(status["problem"])
    assert "not UTF-8" in str(upload(s3, b"\xff\xfe\x00date")["problem"])


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [({}, (30, None)), ({"periods": " 8 ", "freq": "W"}, (8, "W")), ({"freq": ""}, (30, None))],
)
def test_options_default_to_thirty_periods_and_an_inferred_frequency(
    metadata: dict[str, str], expected: tuple[int, str | None]
) -> None:
    assert options(metadata) == expected


@pytest.mark.parametrize("metadata", [{"periods": "367"}, {"periods": "2.5"}, {"freq": "M"}])
def test_bad_options_are_named(metadata: dict[str, str]) -> None:
    with pytest.raises(UploadRejected, match=next(iter(metadata))):
        options(metadata)


def test_only_csv_uploads_under_the_prefix_are_forecast_not_our_own_results() -> None:
    assert is_sales_upload("uploads/forecasts/a.csv")
    assert not is_sales_upload("uploads/forecasts/a.csv.forecast.csv")
    assert not is_sales_upload("uploads/catalog/a.csv")
    assert not is_sales_upload("uploads/forecasts/a.csv.status.json")


def test_an_error_that_is_not_the_files_is_recorded_failed_and_raised_for_the_queue_to_retry() -> None:
    s3 = FakeS3()
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=daily_sales_csv(40).encode())

    def broken(text: str, periods: int, freq: str | None) -> ForecastOutputs:
        raise MemoryError("out of memory")

    with pytest.raises(MemoryError):
        forecast_upload(Uploads(BUCKET, s3=s3), KEY, broken, lambda: NOW)
    status = json.loads(s3.objects[(BUCKET, KEY + ".status.json")])
    assert status["status"] == "failed" and status["problem"].startswith("MemoryError: out of memory")
