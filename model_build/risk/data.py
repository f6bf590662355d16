"""A reader for the public Kaggle credit card fraud file, for users who have it.

Dataset: "Credit Card Fraud Detection" by the Machine Learning Group of ULB (Université Libre de
Bruxelles) with Worldline, published on Kaggle (https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud)
under the Open Database License. It holds 284,807 card transactions by European cardholders over two
days in September 2013, 492 of them fraudulent. Cite: Andrea Dal Pozzolo, Olivier Caelen, Reid A. Johnson
and Gianluca Bontempi, "Calibrating Probability with Undersampling for Unbalanced Classification", IEEE
CIDM 2015. We do not ship or download it: download `creditcard.csv` yourself and pass its path.

Columns (`creditcard.csv`): `Time` (seconds since the file's first transaction), `V1`..`V28` (anonymised
PCA components), `Amount` (euros) and `Class` (1 fraud, 0 genuine). The file has no users, devices, IPs
or merchants, so the velocity and graph features cannot be built from it; `model_build.risk.simulator`
provides those.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CREDITCARD_COLUMNS: tuple[str, ...] = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount", "Class")


class DataError(RuntimeError):
    pass


def read_creditcard_csv(path: Path | str) -> pd.DataFrame:
    """The Kaggle creditcard.csv as a frame with exactly `CREDITCARD_COLUMNS`, in that order: every value
    numeric, `Time` and `Amount` not negative, `Class` 0 or 1 (int64; the rest float64). Extra columns are
    dropped. Raises `DataError` naming the file, the missing columns or the first bad line."""
    source = Path(path)
    if not source.is_file():
        raise DataError(f"{source}: no such file (download creditcard.csv from Kaggle, see model_build.risk.data)")
    try:
        table = pd.read_csv(source, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{source.name}: not a readable CSV file ({error})") from error
    missing = [column for column in CREDITCARD_COLUMNS if column not in table.columns]
    if missing:
        raise DataError(f"{source.name}: missing column(s) {', '.join(missing)} (is this Kaggle's creditcard.csv?)")
    if table.empty:
        raise DataError(f"{source.name}: no rows")

    raw = table[list(CREDITCARD_COLUMNS)]
    frame = raw.apply(pd.to_numeric, errors="coerce").astype(float)
    problems = {column: ~np.isfinite(frame[column]) for column in CREDITCARD_COLUMNS}
    problems["Time"] |= frame["Time"] < 0
    problems["Amount"] |= frame["Amount"] < 0
    problems["Class"] |= ~frame["Class"].isin([0.0, 1.0])
    bad = pd.DataFrame(problems)
    rows = bad.any(axis=1)
    if rows.any():
        first = int(rows.to_numpy().argmax())
        column = str(bad.columns[bad.iloc[first].to_numpy().argmax()])
        expected = (
            "0 or 1" if column == "Class" else "a number >= 0" if column in ("Time", "Amount") else "a finite number"
        )
        value = raw[column].iloc[first]
        got = "an empty value" if pd.isna(value) else repr(value) if isinstance(value, str) else str(value)
        raise DataError(
            f"{source.name}: {int(rows.sum())} bad row(s); "
            f"first at line {first + 2}: {column} must be {expected}, got {got}"
        )
    return frame.astype({"Class": "int64"})
