"""`apranova-lms`: database chores for the LMS (migrate, demo data, serve)."""

import argparse
import sys

from lms_api.config import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apranova-lms", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the LMS database to the latest schema")
    sub.add_parser("seed-demo", help="load the demo school once (idempotent)")
    serve = sub.add_parser("serve", help="run the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
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
    elif args.command == "serve":
        import uvicorn

        uvicorn.run(
            "lms_api.main:asgi_app",
            factory=True,
            host=args.host,
            port=args.port,
            proxy_headers=True,
            log_level="info",
        )
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
