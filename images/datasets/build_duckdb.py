"""Load each track's CSV files into one DuckDB file per track, a table per file.

    python build_duckdb.py /opt/apranova/datasets

Run at image build (jupyterlab and superset images): `/opt/apranova/datasets/DP/orders.csv`
becomes table `orders` in `/opt/apranova/datasets/DP/datasets.duckdb`. The workspaces open
that file read-only, so every student of a track reads the same bytes.
"""

import sys
from pathlib import Path

import duckdb


def build(root: Path) -> list[Path]:
    built = []
    for track in sorted(p for p in root.iterdir() if p.is_dir()):
        target = track / "datasets.duckdb"
        target.unlink(missing_ok=True)
        with duckdb.connect(str(target)) as con:
            for csv in sorted(track.glob("*.csv")):
                con.execute(
                    f'CREATE TABLE "{csv.stem}" AS SELECT * FROM read_csv_auto(?, header=true)',
                    [str(csv)],
                )
        built.append(target)
    return built


if __name__ == "__main__":
    for path in build(Path(sys.argv[1])):
        print(path)
