"""The tracks of the synthetic school: DP and FSD reused when the demo made them, created
(with projects, ordered steps and deliverables) when absent, and DE besides."""

import json
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from lms_api.curriculum.enums import DeliverableKind, ProjectType
from lms_api.synthetic.catalog import TRACK_SPECS
from lms_api.synthetic.store import Store

# Deliverables of a created project, per track: (title, kind, required).
NOTEBOOK, URL, PR = DeliverableKind.NOTEBOOK, DeliverableKind.URL, DeliverableKind.GITHUB_PR
DELIVERABLES = {
    "DP": [("Notebook", NOTEBOOK, True), ("Write-up link", URL, False)],
    "FSD": [("Pull request", PR, True), ("Demo link", URL, False)],
    "DE": [("Notebook", NOTEBOOK, True), ("Pull request", PR, False)],
}
CAPSTONE_DELIVERABLE = ("Final presentation", DeliverableKind.FILE, True)


class Ids:
    """Ids this seed allocates itself, after the current maximum of each table."""

    def __init__(self, store: Store, tables: list[str]) -> None:
        self.next = {table: store.next_id(table) for table in tables}

    def take(self, table: str, n: int) -> np.ndarray:
        start = self.next[table]
        self.next[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)


@dataclass
class Track:
    id: int
    code: str
    name: str
    duration_weeks: int
    price_cents: int
    currency: str
    workspace_kinds: list[str]
    project_ids: list[int] = field(default_factory=list)
    project_hours: list[int] = field(default_factory=list)
    # steps in track order: (step id, project id)
    steps: list[tuple[int, int]] = field(default_factory=list)
    # (deliverable id, project id, kind, required)
    deliverables: list[tuple[int, int, str, bool]] = field(default_factory=list)

    def step_schedule(self) -> np.ndarray:
        """Fraction of the track's estimated hours each step takes (sums to 1)."""
        hours = dict(zip(self.project_ids, self.project_hours, strict=True))
        per_project = {p: sum(1 for _, q in self.steps if q == p) for p in self.project_ids}
        shares = np.array([max(hours[p], 1) / per_project[p] for _, p in self.steps], dtype=float)
        return shares / shares.sum()


@dataclass
class Curriculum:
    tracks: list[Track]
    new_rows: dict[str, pa.Table]  # rows to insert for the tracks this seed creates


def load_curriculum(store: Store, ids: Ids) -> Curriculum:
    codes = ", ".join(f"'{code}'" for code in TRACK_SPECS)
    existing = {
        row[1]: row
        for row in store.query(
            "SELECT id, code, name, duration_weeks, price_cents, currency, workspace_kinds "
            f"FROM tracks WHERE code IN ({codes})"
        )
    }
    rows: dict[str, list[dict]] = {
        "tracks": [],
        "projects": [],
        "project_steps": [],
        "deliverables": [],
    }
    tracks = []
    for code, spec in TRACK_SPECS.items():
        if code in existing:
            row = existing[code]
            kinds = json.loads(row[6]) if isinstance(row[6], str) else list(row[6] or [])
            track = Track(int(row[0]), code, row[2], int(row[3]), int(row[4]), row[5], kinds)
            _read_projects(store, track)
        else:
            track = Track(
                id=int(ids.take("tracks", 1)[0]),
                code=code,
                name=spec["name"],
                duration_weeks=spec["duration_weeks"],
                price_cents=spec["price_cents"],
                currency="eur",
                workspace_kinds=[str(k) for k in spec["workspace_kinds"]],
            )
            rows["tracks"].append(
                {
                    "id": track.id,
                    "code": code,
                    "name": track.name,
                    "description": spec["description"],
                    "duration_weeks": track.duration_weeks,
                    "workspace_kinds": json.dumps(track.workspace_kinds),
                    "price_cents": track.price_cents,
                    "currency": track.currency,
                    "is_active": True,
                }
            )
        if not track.project_ids:
            _create_projects(track, spec, ids, rows)
        tracks.append(track)
    new_rows = {name: pa.Table.from_pylist(items) for name, items in rows.items() if items}
    return Curriculum(tracks, new_rows)


def _read_projects(store: Store, track: Track) -> None:
    projects = store.query(
        f"SELECT id, estimated_hours FROM projects WHERE track_id = {track.id} ORDER BY number"
    )
    track.project_ids = [int(p[0]) for p in projects]
    track.project_hours = [int(p[1] or 0) for p in projects]
    if not projects:
        return
    listed = ", ".join(str(p) for p in track.project_ids)
    rank = {p: i for i, p in enumerate(track.project_ids)}
    steps = store.query(
        f'SELECT id, project_id, "order" FROM project_steps WHERE project_id IN ({listed})'
    )
    steps.sort(key=lambda s: (rank[s[1]], s[2], s[0]))
    track.steps = [(int(s[0]), int(s[1])) for s in steps]
    deliverables = store.query(
        f"SELECT id, project_id, kind, required FROM deliverables WHERE project_id IN ({listed})"
    )
    deliverables.sort(key=lambda d: (rank[d[1]], d[0]))
    track.deliverables = [(int(d[0]), int(d[1]), d[2], bool(d[3])) for d in deliverables]


def _create_projects(track: Track, spec: dict, ids: Ids, rows: dict[str, list[dict]]) -> None:
    last = len(spec["projects"])
    for number, (title, steps) in enumerate(spec["projects"], start=1):
        capstone = number == last
        project_id = int(ids.take("projects", 1)[0])
        hours = 12 * len(steps)
        rows["projects"].append(
            {
                "id": project_id,
                "track_id": track.id,
                "number": number,
                "title": title,
                "description": f"Project {number} of the {spec['name']} track.",
                "type": str(ProjectType.CAPSTONE if capstone else ProjectType.INTERNAL),
                "tech_stack": json.dumps(
                    spec["tech_stack"] if capstone else spec["tech_stack"][:2]
                ),
                "estimated_hours": hours,
            }
        )
        track.project_ids.append(project_id)
        track.project_hours.append(hours)
        for order, step_title in enumerate(steps, start=1):
            step_id = int(ids.take("project_steps", 1)[0])
            rows["project_steps"].append(
                {
                    "id": step_id,
                    "project_id": project_id,
                    "order": order,
                    "title": step_title,
                    "description": f"{step_title}.",
                }
            )
            track.steps.append((step_id, project_id))
        made = list(DELIVERABLES[spec["code"]])
        if capstone:
            made.append(CAPSTONE_DELIVERABLE)
        for title_, kind, required in made:
            deliverable_id = int(ids.take("deliverables", 1)[0])
            rows["deliverables"].append(
                {
                    "id": deliverable_id,
                    "project_id": project_id,
                    "title": title_,
                    "kind": str(kind),
                    "required": required,
                }
            )
            track.deliverables.append((deliverable_id, project_id, str(kind), required))
