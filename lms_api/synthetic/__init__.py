"""A deterministic synthetic school for the analytics: `apranova-lms seed-synthetic`.

`seed_synthetic(database_url, students=..., quizzes=..., seed=...)` fills a migrated LMS
database in bulk (COPY on PostgreSQL) and writes the hub activity to the landing folder.
"""

from lms_api.synthetic.activity import default_activity_dir
from lms_api.synthetic.seed import SyntheticDataExists, SyntheticSummary, seed_synthetic

__all__ = ["SyntheticDataExists", "SyntheticSummary", "default_activity_dir", "seed_synthetic"]
