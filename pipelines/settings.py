"""Analytics settings: the thresholds trainers tune, as one Dagster resource.

Every value can be set with an environment variable `APRANOVA_ANALYTICS_<NAME>` (e.g.
APRANOVA_ANALYTICS_INACTIVE_DAYS=5), read when the code location loads. A rule the pipelines
compute again from the LMS's data reads the LMS's own variable (SHARED), so that the API and
the dashboards cannot be configured to disagree.
"""

import os
from datetime import UTC, datetime

from dagster import ConfigurableResource
from pydantic import Field

PREFIX = "APRANOVA_ANALYTICS_"
# Fields read from the variable lms-api reads for the same rule (lms_api.config.Settings).
SHARED = {"session_late_after_minutes": "APRANOVA_SESSION_LATE_AFTER_MINUTES"}


def variable(name: str) -> str:
    """The environment variable of the field `name`."""
    return SHARED.get(name, PREFIX + name.upper())


class AnalyticsSettings(ConfigurableResource):
    min_attempts: int = Field(
        default=10,
        description="Below this many attempts a quiz or item statistic is NULL, flagged "
        "'too few attempts', rather than a guess.",
    )
    inactive_days: int = Field(
        default=7, description="At risk: no workspace activity for this many days."
    )
    no_progress_days: int = Field(
        default=14, description="At risk: no curriculum step completed for this many days."
    )
    score_drop: float = Field(
        default=0.15,
        description="At risk: the mean of the last two quiz scores is this far (fraction of "
        "the maximum) below the mean of the student's earlier ones.",
    )
    low_score: float = Field(
        default=0.5, description="At risk: the mean of the last three quiz scores is below this."
    )
    overdue_grace_days: int = Field(
        default=3,
        description="At risk: a required deliverable is this many days past its expected date "
        "with nothing submitted. A project is expected done when its share of the track's "
        "estimated hours has elapsed since enrollment.",
    )
    min_risk_score: float = Field(
        default=0.35,
        description="At risk: list a student only when the weighted score of the signs "
        "reaches this (0: any sign). Chosen from the backtest (marts.at_risk_backtest, README).",
    )
    dropped_after_days: int = Field(
        default=30,
        description="At risk no more but gone: a student with no activity at all (workspace, "
        "step, quiz) for this many days has dropped out and leaves the at-risk list, which "
        "keeps the students a trainer can still reach.",
    )
    backtest_horizon_days: int = Field(
        default=28,
        description="At-risk backtest: a flag is right when, within this many days after it, "
        "the student leaves (refund or cancellation) or goes quiet (backtest_quiet_days).",
    )
    backtest_quiet_days: int = Field(
        default=14,
        description="At-risk backtest: the student went quiet when the last this many days "
        "of the horizon hold no activity at all (no workspace activity, step or quiz).",
    )
    backtest_weeks: int = Field(
        default=4,
        description="At-risk backtest: how many weekly cutoffs, the newest one horizon days ago.",
    )
    rapid_guess_seconds: float = Field(
        default=5.0,
        description="Quiz items: an answer saved less than this many seconds after the "
        "previous one (or the start of the attempt) is a rapid guess "
        "(marts.quiz_item_stats.rapid_guess_rate).",
    )
    session_late_after_minutes: int = Field(
        default=10,
        ge=0,
        description="Attendance of a class session (marts.session_attendance): a first "
        "activity more than this many minutes after the start is late, not present. The "
        "variable lms-api reads for its attendance, so both give the same answers.",
    )
    as_of: str = Field(
        default="",
        description="ISO time the marts are computed for (empty: now). Tests and replays.",
    )

    def now(self) -> datetime:
        """The reference time, naive UTC like every warehouse timestamp."""
        if self.as_of:
            moment = datetime.fromisoformat(self.as_of)
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        return datetime.now(UTC).replace(tzinfo=None)

    @classmethod
    def from_env(cls) -> "AnalyticsSettings":
        values = {}
        for name, field in cls.model_fields.items():
            raw = os.environ.get(variable(name))
            if raw is not None and raw != "":
                values[name] = field.annotation(raw) if field.annotation is not str else raw
        return cls(**values)
