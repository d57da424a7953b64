"""Print bench/results.json as the README's Markdown tables (one per size; SQLite and PostgreSQL side by side).

    .venv/bin/python bench/table.py [bench/results.json]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def _ms(value) -> str:
    if value is None:
        return "–"
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def _cell(row: dict | None) -> list[str]:
    if row is None:
        return ["–"] * 4
    if row["name"] == "bench_data":
        return [_ms(row["median"]), "–", "–", "–"]
    times = f"{_ms(row['median'])} / {_ms(row['p95'])}"
    ratio = "–" if row.get("ratio") is None else f"{row['ratio']}x"
    return [times, _ms(row.get("floor")), ratio, str(row.get("queries", "–"))]


def main(path: str = "bench/results.json") -> None:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    by_size: dict[str, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    order: list[str] = []
    for row in rows:
        if row.get("size") is None:
            continue
        by_size[row["size"]][row["name"]][row["database"]] = row
        if row["name"] not in order:
            order.append(row["name"])
    for size, names in by_size.items():
        print(f"\n{size}:\n")
        print("| measurement | SQLite median / p95 (ms) | floor | ratio | queries "
              "| PostgreSQL median / p95 (ms) | floor | ratio | queries |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name in (n for n in order if n in names):
            cells = _cell(names[name].get("sqlite")) + _cell(names[name].get("postgresql"))
            print(f"| {name} | " + " | ".join(cells) + " |")
    for row in rows:
        if row.get("size") is None:
            print("\n" + json.dumps(row))


if __name__ == "__main__":
    main(*sys.argv[1:])
