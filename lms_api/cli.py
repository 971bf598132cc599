"""`apranova-lms`: chores for the LMS (migrate, demo data, synthetic school, sweep uploads,
serve)."""

import argparse
import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from lms_api.config import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apranova-lms", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the LMS database to the latest schema")
    sub.add_parser("seed-demo", help="load the demo school once (idempotent)")
    synthetic = sub.add_parser(
        "seed-synthetic",
        help="fill the LMS with a deterministic synthetic school (bulk; once per database)",
    )
    synthetic.add_argument("--students", type=_positive, default=2000, help="default: 2000")
    synthetic.add_argument("--quizzes", type=_count, default=12, help="default: 12")
    synthetic.add_argument("--seed", type=int, default=7, help="same seed, same school")
    synthetic.add_argument(
        "--trainers",
        type=_positive,
        help="at least this many (default 1); more when the cap on students per trainer "
        "(APRANOVA_MAX_STUDENTS_PER_TRAINER) needs them",
    )
    synthetic.add_argument(
        "--days", type=_positive, default=60, help="history length in days (default: 60)"
    )
    synthetic.add_argument(
        "--now",
        type=_moment,
        help="when the history ends (ISO 8601, UTC if no zone; default: the current hour)",
    )
    synthetic.add_argument(
        "--activity-dir",
        type=Path,
        help="where the hub activity Parquet goes (default: the pipeline's landing folder, "
        "landing/hub_activity beside APRANOVA_WAREHOUSE_PATH)",
    )
    synthetic.add_argument(
        "--database-url", help="LMS database (default: APRANOVA_DATABASE_URL / the settings)"
    )
    synthetic.add_argument(
        "--hand-over-to",
        metavar="USERNAME",
        help="give the first synthetic trainer's students to this existing account (e.g. the "
        "demo `trainer`, who can then read them in the dashboards)",
    )
    sweep = sub.add_parser(
        "sweep-uploads",
        help="delete uploaded files no submission points at (left by failed requests)",
    )
    sweep.add_argument(
        "--grace-seconds",
        type=float,
        default=86_400,
        help="keep files younger than this, so uploads in flight survive (default: a day)",
    )
    serve = sub.add_parser("serve", help="run the API with uvicorn")
    serve.add_argument(
        "--host",
        action="append",
        help="an address to listen on; repeat it for several (default: 127.0.0.1)",
    )
    serve.add_argument("--port", type=int, default=8010)
    args = parser.parse_args(argv)

    settings = get_settings()
    if args.command == "migrate":
        from lms_api.migrate import upgrade

        upgrade(settings.database_url)
        print(f"LMS database at head: {_redacted(settings.database_url)}")
    elif args.command == "seed-demo":
        from lms_api.demo import seed_demo

        created = seed_demo(settings.database_url)
        print("Demo school loaded." if created else "Demo school already present; left as is.")
    elif args.command == "seed-synthetic":
        from lms_api.migrate import upgrade
        from lms_api.synthetic import SyntheticDataExists, seed_synthetic

        url = args.database_url or settings.database_url
        upgrade(url)
        try:
            summary = seed_synthetic(
                url,
                students=args.students,
                quizzes=args.quizzes,
                seed=args.seed,
                trainers=args.trainers,
                days=args.days,
                activity_dir=args.activity_dir,
                now=args.now,
                progress=True,
                trainer_cap=settings.max_students_per_trainer,
            )
        except SyntheticDataExists as exc:
            print(f"apranova-lms seed-synthetic: {exc}", file=sys.stderr)
            return 2
        print(summary.report())
        if args.hand_over_to:
            from lms_api.synthetic.handover import NoSuchAccount, hand_over_students

            try:
                moved = hand_over_students(
                    url, args.hand_over_to, cap=settings.max_students_per_trainer
                )
            except NoSuchAccount as exc:
                print(f"apranova-lms seed-synthetic: {exc}", file=sys.stderr)
                return 2
            print(
                f"{moved} synthetic students now have {args.hand_over_to} as their trainer "
                f"(at most {settings.max_students_per_trainer} students per trainer)."
            )
    elif args.command == "sweep-uploads":
        deleted = sweep_uploads(settings.database_url, settings.upload_dir, args.grace_seconds)
        print(f"Deleted {len(deleted)} unreferenced file(s) from {settings.upload_dir}.")
    elif args.command == "serve":
        serve_api(args.host or ["127.0.0.1"], args.port)
    return 0


def serve_api(hosts: list[str], port: int) -> None:
    """uvicorn on every address in `hosts`: one process, one socket per address (e.g. loopback
    for the hub and its proxy, and the workspace network's gateway for notebooks in Docker)."""
    import uvicorn

    config = uvicorn.Config(
        "lms_api.main:asgi_app", factory=True, port=port, proxy_headers=True, log_level="info"
    )
    sockets = []
    for host in hosts:
        config.host = host
        sockets.append(config.bind_socket())
    # uvicorn shuts down cleanly, then re-raises the Ctrl-C it caught: end without a traceback.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=sockets)


def sweep_uploads(database_url: str, upload_dir, grace_seconds: float) -> list:
    """Read which files the submission versions point at, then sweep the rest."""
    from sqlalchemy import create_engine, select

    from lms_api.database import sync_url
    from lms_api.submissions.files import sweep_unreferenced
    from lms_api.submissions.models import SubmissionVersion

    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            referenced = set(
                connection.scalars(
                    select(SubmissionVersion.sha256).where(SubmissionVersion.sha256.is_not(None))
                )
            )
    finally:
        engine.dispose()
    return sweep_unreferenced(upload_dir, referenced, grace_seconds)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
