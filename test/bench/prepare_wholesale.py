"""Derived copies of the UCI Wholesale customers file for `npm run bench -- --only schema` (issue 15).

The data: Cardoso, M. (2013). Wholesale customers [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C5030X (https://archive.ics.uci.edu/dataset/292/wholesale+customers),
CC BY 4.0. It is not in this repository: download it into a directory of your own.

Reads "Wholesale customers data.csv" in DIR (comma-separated, as UCI publishes it), checks it is
that file (440 rows, the 8 columns, the column sums of the published description), and writes
into DIR:
  customers.csv  every row, with `customer_id` (its 1-based row number) prepended
  train.csv      the rows whose customer_id is not a multiple of 5 (352 rows)
  holdout.csv    every 5th row: customer_id 5, 10, ..., 440 (88 rows)
Values are copied as text, byte for byte; nothing is re-parsed or reformatted.
Changes from the original, as CC BY asks to note: an id column added; rows split in two files.
Then: SEGMENTS_BENCH_PUBLIC_DIR=DIR npm run bench -- --only schema

Usage: /usr/bin/python3 test/bench/prepare_wholesale.py DIR
"""
import csv
import sys
from pathlib import Path

if len(sys.argv) != 2:
    raise SystemExit(__doc__.strip().splitlines()[-1])
HERE = Path(sys.argv[1]).resolve()
SOURCE = HERE / "Wholesale customers data.csv"
COLUMNS = ["Channel", "Region", "Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
# Sums of each column of the published file (= 440 × the means of its published describe()).
COLUMN_SUMS = {
    "Channel": 582,
    "Region": 1119,
    "Fresh": 5280131,
    "Milk": 2550357,
    "Grocery": 3498562,
    "Frozen": 1351650,
    "Detergents_Paper": 1267857,
    "Delicassen": 670943,
}
ROWS = 440
HOLD_OUT_EVERY = 5


def read_source():
    with SOURCE.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    if header != COLUMNS:
        raise SystemExit(f"{SOURCE.name}: header {header}, expected {COLUMNS}")
    if len(rows) != ROWS or any(len(r) != len(COLUMNS) for r in rows):
        raise SystemExit(f"{SOURCE.name}: {len(rows)} rows, expected {ROWS} rows of {len(COLUMNS)} fields")
    sums = {c: sum(int(r[j]) for r in rows) for j, c in enumerate(COLUMNS)}
    if sums != COLUMN_SUMS:
        raise SystemExit(f"{SOURCE.name}: column sums {sums}, expected {COLUMN_SUMS}")
    return rows


def write(name, rows):
    with (HERE / name).open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["customer_id", *COLUMNS])
        writer.writerows(rows)
    print(f"{name}: {len(rows)} rows")


def main():
    rows = [[str(i), *r] for i, r in enumerate(read_source(), start=1)]
    write("customers.csv", rows)
    write("train.csv", [r for r in rows if int(r[0]) % HOLD_OUT_EVERY != 0])
    write("holdout.csv", [r for r in rows if int(r[0]) % HOLD_OUT_EVERY == 0])


main()
