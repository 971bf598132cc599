"""Seed the Django peer's database through its ORM, for `bench.peer_django`.

Run with the peer's own Python (its virtualenv), in its `backend/` folder, with
DJANGO_SETTINGS_MODULE set; it imports nothing of ApraNova, only Django, the peer's apps and
simplejwt. `python peer_seed.py SPEC OUT`: SPEC is a JSON file {"quiz": bench.quiz_load's
quiz_body(), "students": [names]}; OUT receives {"quiz": {"id", "questions": [{"id", "type",
"points", "options": [{"id", "is_correct"}]}]}, "students": [[name, access token], ...]}, the
shape `bench.quiz_load.QuizKey.from_detail` reads.

Made: one trainer (the quiz's author, the peer's `Quiz.created_by` is required), the quiz
(active, its questions and answers in the spec's order) and one `student` account per name,
each with an unusable password (no login is measured) and a simplejwt access token, the
Bearer token the peer's own frontend sends.
"""

import json
import sys

import django


def main(spec_path: str, out_path: str) -> None:
    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from quizzes.models import Answer, Question, Quiz
    from rest_framework_simplejwt.tokens import AccessToken

    with open(spec_path) as spec_file:
        spec = json.load(spec_file)
    body, names = spec["quiz"], spec["students"]
    user_model = get_user_model()
    with transaction.atomic():
        trainer = user_model.objects.create(
            email="bench-trainer@bench.invalid",
            username="bench-trainer",
            name="Bench trainer",
            role="trainer",
            password=make_password(None),
        )
        quiz = Quiz.objects.create(
            title=body["title"],
            description="Load-run quiz (bench.peer_django)",
            created_by=trainer,
            generation_type="PROMPT",
            prompt="load run",
            is_active=True,
        )
        questions = []
        for order, q in enumerate(body["questions"], start=1):
            question = Question.objects.create(
                quiz=quiz, question_text=q["text"], question_type=q["type"], order=order
            )
            options = [
                Answer.objects.create(
                    question=question,
                    answer_text=o["text"],
                    is_correct=o["is_correct"],
                    order=i,
                )
                for i, o in enumerate(q["options"], start=1)
            ]
            questions.append(
                {
                    "id": question.id,
                    "type": q["type"],
                    "points": 1.0,
                    "options": [{"id": a.id, "is_correct": a.is_correct} for a in options],
                }
            )
        students = user_model.objects.bulk_create(
            user_model(
                email=f"{name}@bench.invalid",
                username=name,
                name=name,
                role="student",
                enrollment_status="ENROLLED",
                payment_verified=True,
                password=make_password(None),
            )
            for name in names
        )
    tokens = [[s.username, str(AccessToken.for_user(s))] for s in students]
    with open(out_path, "w") as out:
        json.dump({"quiz": {"id": quiz.id, "questions": questions}, "students": tokens}, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
