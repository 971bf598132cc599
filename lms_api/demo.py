"""Demo school loaded by `make up`: two tracks, a few projects and steps, two students.

The accounts themselves (and their passwords) are made on the hub side; this module only
knows usernames, which must match `hub.demo.DEMO_ACCOUNTS`.
"""

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from lms_api.curriculum.models import (
    Deliverable,
    DeliverableKind,
    Project,
    ProjectStep,
    ProjectType,
    Track,
    WorkspaceKind,
)
from lms_api.database import sync_url
from lms_api.enrollments.models import Enrollment, EnrollmentSource, EnrollmentStatus
from lms_api.people.models import Person, TrainerAssignment

TRACKS = [
    {
        "code": "DP",
        "name": "Data Professional",
        "description": "SQL, Python, pipelines and dashboards for working data analysts.",
        "duration_weeks": 24,
        "price_cents": 150000,
        "tech_stack": ["python", "pandas", "duckdb", "superset"],
        "workspace_kinds": [WorkspaceKind.JUPYTERLAB, WorkspaceKind.SUPERSET],
        "projects": [
            ("Exploring a dataset with pandas", ["Load the data", "Clean it", "Describe it"]),
            ("SQL analytics with DuckDB", ["Model the tables", "Write the queries"]),
            ("A dashboard in Superset", ["Connect the data", "Build the charts", "Present"]),
        ],
    },
    {
        "code": "FSD",
        "name": "Full-Stack Development",
        "description": "Web applications end to end: APIs, databases, front ends and deployment.",
        "duration_weeks": 28,
        "price_cents": 180000,
        "tech_stack": ["python", "fastapi", "postgresql", "typescript"],
        "workspace_kinds": [WorkspaceKind.JUPYTERLAB, WorkspaceKind.CODE_SERVER],
        "projects": [
            ("A REST API with FastAPI", ["Design the routes", "Persist the data", "Test it"]),
            ("A front end for the API", ["Lay out the pages", "Call the API"]),
        ],
    },
]

# username -> track code (active, granted) for the demo students
DEMO_ENROLLMENTS = {"ada": "DP", "linus": "FSD"}
DEMO_TRAINER = "trainer"  # trains both demo students


def seed_demo(database_url: str) -> bool:
    """Load the demo school once. Returns False when it was already there."""
    engine = create_engine(sync_url(database_url))
    try:
        with Session(engine) as session, session.begin():
            if session.scalar(select(Track).limit(1)) is not None:
                return False
            tracks = {}
            for spec in TRACKS:
                track = Track(
                    code=spec["code"],
                    name=spec["name"],
                    description=spec["description"],
                    duration_weeks=spec["duration_weeks"],
                    workspace_kinds=[str(k) for k in spec["workspace_kinds"]],
                    price_cents=spec["price_cents"],
                    currency="eur",
                )
                last = len(spec["projects"])
                for number, (title, steps) in enumerate(spec["projects"], start=1):
                    capstone = number == last
                    project = Project(
                        number=number,
                        title=title,
                        description=f"Project {number} of the {spec['name']} track.",
                        type=ProjectType.CAPSTONE if capstone else ProjectType.INTERNAL,
                        tech_stack=spec["tech_stack"][:2] if not capstone else spec["tech_stack"],
                        estimated_hours=12 * len(steps),
                    )
                    project.steps = [
                        ProjectStep(order=i, title=t, description=f"{t}.")
                        for i, t in enumerate(steps, start=1)
                    ]
                    project.deliverables = [
                        Deliverable(title="Notebook", kind=DeliverableKind.NOTEBOOK, required=True),
                        Deliverable(
                            title="Write-up link", kind=DeliverableKind.URL, required=False
                        ),
                    ]
                    track.projects.append(project)
                session.add(track)
                tracks[track.code] = track
            trainer = Person(username=DEMO_TRAINER, assigned_students=len(DEMO_ENROLLMENTS))
            session.add(trainer)
            for username, code in DEMO_ENROLLMENTS.items():
                person = Person(username=username)
                session.add(TrainerAssignment(trainer=trainer, student=person, assigned_by="seed"))
                session.add(
                    Enrollment(
                        person=person,
                        track=tracks[code],
                        status=EnrollmentStatus.ACTIVE,
                        source=EnrollmentSource.GRANT,
                    )
                )
        return True
    finally:
        engine.dispose()
