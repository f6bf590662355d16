"""A sales file uploaded under `uploads/forecasts/` in the shop's uploads bucket: forecast it as
`commerce-ai forecast` does and write the results beside it.

`<upload>` is any `.csv` key under the prefix (`date,sales` or `date,sku,units[,price,promo]`, see
`sales_csv`). Options ride on the object's user metadata, as `aws s3 cp --metadata periods=30,freq=D` puts
them: `periods` (1-366, default 30) and `freq` (`D` or `W`, default inferred). Beside the upload land
`<upload>.forecast.csv` (`date,p10,p50,p90`, with `sku` first for several series), `<upload>.plot.png`
(history, p50 and the p10-p90 band of the first series) and `<upload>.status.json`, which says `running`
while the model is fitted, then `forecast`, or `rejected` with the problem (the line at fault), or `failed`
when something else broke (the message is retried, and reaches the DLQ after 3 receives). A rejected
file leaves no forecast or plot beside it (older ones are removed), so nothing is half-written. The same
upload forecast twice (a redelivered notification) writes the same results.

The forecaster (file text, periods, freq -> outputs) is passed in: it is the training stack's
(`model_build.forecasting.own_sales.upload_outputs`, in ForecastUploadFunction's image); here is only the
bucket's side, testable with a stand-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from commerce_ai.errors import safe_reason
from commerce_ai.forecasting.sales_csv import SalesFileError
from commerce_ai.stream.schema import format_timestamp
from commerce_ai.uploads import Uploads

PREFIX = "uploads/forecasts/"
SUFFIX = ".csv"
FORECAST_SUFFIX, PLOT_SUFFIX, STATUS_SUFFIX = ".forecast.csv", ".plot.png", ".status.json"
DEFAULT_PERIODS, MAX_PERIODS = 30, 366
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # about a million rows: LightGBM fits that within the function's 900 s


@dataclass(frozen=True)
class ForecastOutputs:
    freq: str
    series: int
    plotted: str
    csv: str
    png: bytes


Forecaster = Callable[[str, int, str | None], ForecastOutputs]


class UploadRejected(ValueError):
    """The upload cannot be forecast as it is (its options, size or encoding); retrying cannot fix it."""


@dataclass
class UploadStatus:
    upload: str
    status: Literal["running", "forecast", "rejected", "failed"]
    updated_at: str
    periods: int | None = None
    freq: str | None = None
    series: int | None = None
    plotted: str | None = None
    forecast: str | None = None
    plot: str | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def is_sales_upload(key: str) -> bool:
    """A `.csv` under the prefix that is not one of our own results (whose notifications arrive too)."""
    return key.startswith(PREFIX) and key.endswith(SUFFIX) and not key.endswith(FORECAST_SUFFIX)


def forecast_key(upload: str) -> str:
    return upload + FORECAST_SUFFIX


def plot_key(upload: str) -> str:
    return upload + PLOT_SUFFIX


def status_key(upload: str) -> str:
    return upload + STATUS_SUFFIX


def options(metadata: dict[str, str]) -> tuple[int, str | None]:
    """(periods, freq) from the upload's metadata; UploadRejected naming the bad one."""
    raw_periods = metadata.get("periods", str(DEFAULT_PERIODS)).strip()
    if not raw_periods.isdigit() or not 1 <= int(raw_periods) <= MAX_PERIODS:
        raise UploadRejected(f"metadata periods {raw_periods[:20]!r} is not a whole number of 1-{MAX_PERIODS}")
    freq = metadata.get("freq", "").strip().upper() or None
    if freq not in (None, "D", "W"):
        raise UploadRejected(f"metadata freq {metadata['freq'][:20]!r} is not D or W")
    return int(raw_periods), freq


def _text_of(uploads: Uploads, key: str) -> tuple[str, dict[str, str]]:
    upload = uploads.read_upload(key, MAX_UPLOAD_BYTES)
    if upload is None:
        raise UploadRejected(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    try:
        return upload.data.decode("utf-8"), upload.metadata
    except UnicodeDecodeError as exc:
        raise UploadRejected(f"the file is not UTF-8 text (byte {exc.start})") from None


def forecast_upload(uploads: Uploads, key: str, forecaster: Forecaster, now: Callable[[], datetime]) -> UploadStatus:
    """Forecast the upload `key` and write its results and status beside it; returns the final status."""
    uploads.write_json(status_key(key), UploadStatus(key, "running", format_timestamp(now())).as_json())
    periods: int | None = None
    freq: str | None = None
    try:
        text, metadata = _text_of(uploads, key)
        periods, freq = options(metadata)
        outputs = forecaster(text, periods, freq)
    except (SalesFileError, UploadRejected) as exc:
        for stale in (forecast_key(key), plot_key(key)):
            uploads.delete(stale)
        status = UploadStatus(key, "rejected", format_timestamp(now()), periods, freq, problem=str(exc))
    except Exception as exc:  # not the file's fault: say so, and let the queue retry it (then the DLQ)
        problem = f"{safe_reason(exc, 200)} (retried by the queue)"
        failed = UploadStatus(key, "failed", format_timestamp(now()), periods, freq, problem=problem)
        uploads.write_json(status_key(key), failed.as_json())
        raise
    else:
        uploads.write(forecast_key(key), outputs.csv.encode(), "text/csv")
        uploads.write(plot_key(key), outputs.png, "image/png")
        status = UploadStatus(
            key,
            "forecast",
            format_timestamp(now()),
            periods,
            outputs.freq,
            outputs.series,
            outputs.plotted,
            forecast_key(key),
            plot_key(key),
        )
    uploads.write_json(status_key(key), status.as_json())
    return status
