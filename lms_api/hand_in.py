"""`apranova-hand-in NOTEBOOK`: hand in the notebook you are working on, from JupyterLab's
terminal (File > New > Terminal), without writing code.

It lists the notebook and file deliverables of your active tracks, asks which one (or takes
`--deliverable ID`), uploads the file with the workspace's own hub token and prints the
version and where to read your trainer's feedback. It uses only the light notebook client.
"""

import argparse
import sys
from pathlib import Path

from lms_api.client import LmsApiError, LmsClient

ACCEPTS = {"notebook": (".ipynb",), "file": None}  # None: any file the server accepts


def deliverables_for(client: LmsClient, path: Path) -> list[tuple[int, str]]:
    """(id, "DP · Project 1 · Notebook") of the deliverables this file could be handed in for."""
    choices = []
    for enrollment in client.me().enrollments:
        if enrollment.status != "active":
            continue
        for summary in client.track(enrollment.track_code).projects:
            project = client.project(summary.id)
            for deliverable in project.deliverables:
                suffixes = ACCEPTS.get(deliverable.kind, ())
                if suffixes == () or (suffixes and path.suffix.lower() not in suffixes):
                    continue
                label = f"{enrollment.track_code} · Project {project.number} · {deliverable.title}"
                choices.append((deliverable.id, label))
    return choices


def choose(choices: list[tuple[int, str]], ask=None) -> int:
    ask = ask or input  # looked up at call time (tests answer for the student)
    for number, (_, label) in enumerate(choices, start=1):
        print(f"  {number}. {label}")
    while True:
        answer = ask(f"Which one (1-{len(choices)})? ").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(choices):
            return choices[int(answer) - 1][0]
        print(f"Type a number from 1 to {len(choices)}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="apranova-hand-in",
        description="Hand in a notebook (or file) for one of your deliverables.",
    )
    parser.add_argument("file", type=Path, help="the notebook (or file) to hand in")
    parser.add_argument("--deliverable", type=int, help="the deliverable's id (else: a menu)")
    parser.add_argument("--note", default="", help="a note for your trainer")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"No file {args.file}: give the path of the notebook, e.g. Analysis.ipynb")
        return 2
    try:
        with LmsClient() as client:
            deliverable = args.deliverable
            if deliverable is None:
                choices = deliverables_for(client, args.file)
                if not choices:
                    print("None of your active tracks has a deliverable for this kind of file.")
                    return 1
                print(f"Hand in {args.file.name} for:")
                deliverable = choose(choices)
            handed = client.submit_file(deliverable, args.file, note=args.note)
    except LmsApiError as exc:
        print(f"Not handed in: {exc.message}")
        return 1
    print(
        f"Handed in {args.file.name} as version {handed.current_version}. Your trainer's "
        "feedback will show on your course page (Course, in the hub's menu)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
