"""Regenerate the course datasets baked into the workspace images (deterministic).

    python images/datasets/generate.py

Small on purpose (a few hundred KB in all): they ship in every workspace image. One folder
per track code; the images put them in /opt/apranova/datasets/<TRACK>/ and build one DuckDB
file per track from them (`build_duckdb.py`).
"""

import csv
import math
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def retail(rng: random.Random) -> None:
    """DP: a shop's orders and products, for pandas, SQL and Superset projects."""
    categories = ["books", "games", "garden", "kitchen", "music", "sports"]
    products = [
        [
            i,
            f"{rng.choice(categories)}-{i:03d}",
            rng.choice(categories),
            round(rng.uniform(3, 250), 2),
        ]
        for i in range(1, 121)
    ]
    for product in products:
        product[1] = f"{product[2].title()} item {product[0]:03d}"
    write(HERE / "DP/products.csv", ["product_id", "name", "category", "unit_price"], products)
    regions = ["north", "south", "east", "west"]
    start = date(2025, 1, 1)
    orders = []
    for order_id in range(1, 3001):
        product = rng.choice(products)
        quantity = rng.choices([1, 2, 3, 4, 5], weights=[50, 25, 12, 8, 5])[0]
        day = start + timedelta(days=rng.randrange(365))
        orders.append(
            [
                order_id,
                day.isoformat(),
                f"C{rng.randrange(1, 601):04d}",
                product[0],
                quantity,
                round(product[3] * quantity, 2),
                rng.choice(regions),
            ]
        )
    write(
        HERE / "DP/orders.csv",
        ["order_id", "order_date", "customer_id", "product_id", "quantity", "amount", "region"],
        orders,
    )


def weather(rng: random.Random) -> None:
    """DP: daily weather of three cities, for time series."""
    rows = []
    for city, base in (("Lisbon", 17.0), ("Oslo", 6.0), ("Nairobi", 19.5)):
        day = date(2025, 1, 1)
        for offset in range(365):
            season = 8 * math.sin((offset - 100) / 365 * 6.283)
            rows.append(
                [
                    city,
                    (day + timedelta(days=offset)).isoformat(),
                    round(base + season + rng.gauss(0, 2.5), 1),
                    round(max(0.0, rng.gauss(1.5, 3)), 1),
                ]
            )
    write(HERE / "DP/weather_daily.csv", ["city", "day", "temp_c", "rain_mm"], rows)


def web_requests(rng: random.Random) -> None:
    """FSD: an API's request log, for building and testing a small service."""
    routes = ["/api/todos", "/api/todos/{id}", "/api/users", "/api/login", "/health"]
    methods = {
        "/api/todos": ["GET", "POST"],
        "/api/todos/{id}": ["GET", "PUT", "DELETE"],
        "/api/users": ["GET"],
        "/api/login": ["POST"],
        "/health": ["GET"],
    }
    rows = []
    for i in range(1, 2001):
        route = rng.choice(routes)
        status = rng.choices([200, 201, 400, 401, 404, 500], weights=[70, 8, 8, 6, 6, 2])[0]
        rows.append(
            [
                i,
                f"2025-03-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:"
                f"{rng.randrange(60):02d}:00Z",
                rng.choice(methods[route]),
                route,
                status,
                round(rng.lognormvariate(3, 0.6), 1),
            ]
        )
    write(
        HERE / "FSD/api_requests.csv",
        ["request_id", "at", "method", "route", "status", "latency_ms"],
        rows,
    )
    todos = [
        [i, f"Task {i}", rng.choice(["open", "done"]), f"user{rng.randrange(1, 21)}"]
        for i in range(1, 201)
    ]
    write(HERE / "FSD/todos.csv", ["todo_id", "title", "state", "owner"], todos)


if __name__ == "__main__":
    rng = random.Random(20260901)
    retail(rng)
    weather(rng)
    web_requests(rng)
