"""Demo school loaded by `make up`: two tracks, a few projects and steps, two students.

The accounts themselves (and their passwords) are made on the hub side; this module only
knows usernames, which must match `hub.demo.DEMO_ACCOUNTS`.
"""

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from lms_api.curriculum.enums import DeliverableKind, ProjectType, WorkspaceKind
from lms_api.curriculum.models import Deliverable, Project, ProjectStep, Track
from lms_api.database import sync_url
from lms_api.enrollments.enums import EnrollmentSource, EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.people.models import Person, TrainerAssignment
from lms_api.quizzes.content import QuestionList, QuizStatus
from lms_api.quizzes.models import Quiz
from lms_api.quizzes.service import build_questions
from lms_api.timestamps import utcnow

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


def _q(text: str, right: list[str], wrong: list[str], explanation: str) -> dict:
    kind = "MULTIPLE" if len(right) > 1 else "SINGLE"
    options = [{"text": t, "is_correct": True} for t in right]
    options += [{"text": t, "is_correct": False} for t in wrong]
    return {"text": text, "type": kind, "options": options, "explanation": explanation}


# One published quiz per track, written by the demo trainer, so students can take one at once.
DEMO_QUIZZES = {
    "DP": (
        "SQL joins and NULLs",
        [
            _q(
                "Which join keeps every customer, with or without orders?",
                ["customers LEFT JOIN orders"],
                ["customers INNER JOIN orders", "customers SEMI JOIN orders"],
                "A LEFT JOIN keeps every row of its left side.",
            ),
            _q(
                "What does NULL = NULL evaluate to in SQL?",
                ["NULL"],
                ["TRUE", "FALSE"],
                "Comparisons with NULL are unknown; use IS NULL.",
            ),
            _q(
                "Which of these are aggregate functions?",
                ["SUM", "COUNT"],
                ["LOWER", "COALESCE"],
                "Aggregates fold many rows into one value.",
            ),
            _q(
                "Which pandas method removes duplicate rows?",
                ["drop_duplicates"],
                ["dropna", "unique", "distinct"],
                "DataFrame.drop_duplicates keeps the first of each set of equal rows.",
            ),
            _q(
                "Which clause filters groups after aggregation?",
                ["HAVING"],
                ["WHERE", "QUALIFY", "FILTER"],
                "WHERE filters rows before grouping; HAVING filters the groups.",
            ),
        ],
    ),
    "FSD": (
        "HTTP and REST basics",
        [
            _q(
                "Which status code answers a successful POST that created a resource?",
                ["201 Created"],
                ["200 OK", "204 No Content", "302 Found"],
                "201 with a Location header names the new resource.",
            ),
            _q(
                "Which methods are idempotent?",
                ["PUT", "DELETE"],
                ["POST", "PATCH"],
                "Repeating PUT or DELETE leaves the same state; POST does not.",
            ),
            _q(
                "Where does FastAPI read a path parameter from?",
                ["The URL path"],
                ["The JSON body", "A cookie"],
                "Path parameters are the {names} in the route's path.",
            ),
        ],
    ),
}


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
            for code, (title, questions) in DEMO_QUIZZES.items():
                session.add(_demo_quiz(tracks[code], title, questions))
        return True
    finally:
        engine.dispose()


def _demo_quiz(track: Track, title: str, questions: list[dict]) -> Quiz:
    """A published quiz, checked by the same rules as one written through the API."""
    checked = QuestionList.model_validate({"questions": questions}).questions
    return Quiz(
        title=title,
        description=f"A short check for the {track.name} track.",
        track=track,
        created_by=DEMO_TRAINER,
        status=QuizStatus.PUBLISHED,
        published_at=utcnow(),
        time_limit_seconds=15 * 60,
        max_attempts=3,
        pass_mark=0.6,
        questions=build_questions(checked),
    )
