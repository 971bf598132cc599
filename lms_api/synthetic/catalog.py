"""Fixed vocabulary of the synthetic school: tracks, quiz topics, names.

Nothing here is random; the generators pick from these lists with seeded generators.
"""

from lms_api.curriculum.enums import WorkspaceKind
from lms_api.demo import TRACKS as DEMO_TRACKS

# Usernames the generator owns: `student` / `trainer` followed by digits only.
STUDENT_PREFIX, TRAINER_PREFIX = "student", "trainer"
STUDENT_DIGITS, TRAINER_DIGITS = 6, 4
ASSIGNED_BY = "synthetic"
EMAIL_DOMAIN = "example.org"

DATA_ENGINEERING = {
    "code": "DE",
    "name": "Data Engineering",
    "description": "Ingestion, warehouse modelling and orchestration of analytics pipelines.",
    "duration_weeks": 20,
    "price_cents": 160000,
    "tech_stack": ["python", "sql", "dagster", "duckdb"],
    "workspace_kinds": [WorkspaceKind.JUPYTERLAB, WorkspaceKind.SUPERSET],
    "projects": [
        ("Ingesting sources with Python", ["Read the sources", "Validate", "Land as Parquet"]),
        ("Modelling the warehouse", ["Stage the tables", "Build the marts", "Test the models"]),
        ("Orchestrating with Dagster", ["Define the assets", "Schedule the runs"]),
        ("An analytics platform", ["Plan it", "Build it", "Document it", "Present it"]),
    ],
}

# Track specs by code, in the order the school lists them (the demo's two, then DE).
TRACK_SPECS = {spec["code"]: spec for spec in [*DEMO_TRACKS, DATA_ENGINEERING]}
# Share of students whose first enrollment is in each track.
TRACK_WEIGHTS = {"DP": 0.45, "FSD": 0.35, "DE": 0.20}

TOPICS = {
    "DP": [
        "SQL joins",
        "Aggregations and GROUP BY",
        "Window functions",
        "NULL semantics",
        "pandas indexing",
        "pandas groupby",
        "Data cleaning",
        "Descriptive statistics",
        "Chart choice",
        "Superset datasets",
        "DuckDB basics",
        "Sampling and bias",
    ],
    "FSD": [
        "HTTP methods",
        "Status codes",
        "REST resource design",
        "FastAPI routing",
        "Pydantic validation",
        "SQL transactions",
        "Database indexes",
        "Authentication",
        "TypeScript types",
        "Async Python",
        "Testing APIs",
        "Deployment",
    ],
    "DE": [
        "File formats",
        "Parquet internals",
        "Data validation",
        "Star schemas",
        "Slowly changing dimensions",
        "Incremental loads",
        "Idempotent pipelines",
        "Dagster assets",
        "Scheduling and sensors",
        "Data quality checks",
        "Partitioning",
        "Lineage",
    ],
}

STEMS = [
    "Which statement about {topic} is true?",
    "What is the best first step when working on {topic}?",
    "Which option describes a common mistake with {topic}?",
    "What does this {topic} example return?",
    "Which tool fits this {topic} task best?",
    "When should you avoid this {topic} technique?",
    "Which result follows from the {topic} rule shown?",
    "What is the cost of this {topic} choice?",
    "Which of these is an example of {topic} done right?",
    "How would you check your {topic} work?",
    "Which definition of a {topic} term is right?",
    "What happens at the edge case in this {topic} snippet?",
]
MULTIPLE_STEMS = [
    "Which of these statements about {topic} are true?",
    "Select every valid approach to this {topic} problem.",
    "Which of these are pitfalls of {topic}?",
]

FIRST_NAMES = [
    "Ada", "Alan", "Amara", "Ana", "Arjun", "Aylin", "Bea", "Bruno", "Chen", "Chloe",
    "Dara", "Diego", "Elif", "Emeka", "Emma", "Farah", "Femi", "Grace", "Hana", "Hugo",
    "Ines", "Ivan", "Jonas", "Kai", "Kemal", "Lara", "Leila", "Liam", "Lucia", "Mateo",
    "Mei", "Mila", "Nadia", "Noah", "Omar", "Priya", "Rafael", "Sara", "Tariq", "Yuki",
]  # fmt: skip
LAST_NAMES = [
    "Adeyemi", "Almeida", "Bauer", "Chen", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia",
    "Haddad", "Ibrahim", "Ivanova", "Jensen", "Kowalski", "Kumar", "Larsen", "Lopez", "Mensah",
    "Moreau", "Nakamura", "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Quinn", "Rossi",
    "Santos", "Schmidt", "Silva", "Suzuki", "Tanaka", "Torres", "Usman", "Varga", "Wang",
    "Weber", "Yilmaz", "Zhang", "Zielinski",
]  # fmt: skip
