"""The creditcard.csv reader: the Kaggle layout is read as numbers, anything else is named and refused.

The fixture has the Kaggle file's header and quoting, with made-up values (we do not ship the dataset).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model_build.risk.data import CREDITCARD_COLUMNS, DataError, read_creditcard_csv

SAMPLE = Path(__file__).parent / "fixtures" / "creditcard_synthetic_sample.csv"


def variant(tmp_path: Path, edit: dict[int, tuple[str, str]] | None = None, drop: str | None = None) -> Path:
    """The sample with `edit` {line number: (column, new raw value)} applied and column `drop` removed."""
    lines = SAMPLE.read_text().splitlines()
    header = [name.strip('"') for name in lines[0].split(",")]
    rows = [line.split(",") for line in lines]
    for line, (column, value) in (edit or {}).items():
        rows[line - 1][header.index(column)] = value
    if drop is not None:
        rows = [row[: header.index(drop)] + row[header.index(drop) + 1 :] for row in rows]
    target = tmp_path / "creditcard.csv"
    target.write_text("\n".join(",".join(row) for row in rows) + "\n")
    return target


def test_the_sample_reads_into_the_kaggle_columns() -> None:
    frame = read_creditcard_csv(SAMPLE)
    assert tuple(frame.columns) == CREDITCARD_COLUMNS
    assert len(frame) == 10
    assert frame["Class"].dtype == "int64" and set(frame["Class"]) == {0, 1}
    assert frame["Class"].sum() == 2
    assert all(frame[column].dtype == "float64" for column in CREDITCARD_COLUMNS[:-1])
    assert frame["Time"].is_monotonic_increasing
    assert (frame["Amount"] > 0).all()


def test_extra_columns_are_dropped(tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    extended = [lines[0] + ',"note"', *(line + ",x" for line in lines[1:])]
    target = tmp_path / "extended.csv"
    target.write_text("\n".join(extended) + "\n")
    assert tuple(read_creditcard_csv(target).columns) == CREDITCARD_COLUMNS


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"creditcard\.csv: missing column\(s\) V7\b"):
        read_creditcard_csv(variant(tmp_path, drop="V7"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({5: ("Class", '"2"')}, r"1 bad row\(s\); first at line 5: Class must be 0 or 1, got 2"),
        ({4: ("Class", '"fraud"'), 9: ("Class", '"3"')}, r"2 bad row\(s\); first at line 4: Class must be 0 or 1"),
        ({3: ("V12", "abc")}, r"first at line 3: V12 must be a finite number, got 'abc'"),
        ({8: ("V1", "inf")}, r"first at line 8: V1 must be a finite number, got inf"),
        ({7: ("Amount", "-4.5")}, r"first at line 7: Amount must be a number >= 0"),
        ({6: ("Time", "")}, r"first at line 6: Time must be a number >= 0, got an empty value"),
    ],
)
def test_a_bad_value_names_the_file_and_its_first_line(
    tmp_path: Path, edit: dict[int, tuple[str, str]], message: str
) -> None:
    with pytest.raises(DataError, match=r"creditcard\.csv: .*" + message):
        read_creditcard_csv(variant(tmp_path, edit))


def test_a_missing_or_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_creditcard_csv(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="not a readable CSV"):
        read_creditcard_csv(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(SAMPLE.read_text().splitlines()[0] + "\n")
    with pytest.raises(DataError, match="no rows"):
        read_creditcard_csv(header_only)
