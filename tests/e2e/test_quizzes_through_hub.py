"""Quizzes through the real hub proxy with the notebook client: a trainer publishes, students
take it at the same time, the trainer reads the results."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from lms_api.client import LmsApiError, LmsClient

pytestmark = pytest.mark.e2e

QUESTIONS = [
    {
        "text": f"What is {n} + {n}?",
        "type": "SINGLE",
        "options": [
            {"text": str(2 * n), "is_correct": True},
            {"text": str(2 * n + 1), "is_correct": False},
        ],
    }
    for n in range(1, 6)
]


def test_students_take_a_quiz_at_once_through_the_proxy(platform):
    base = f"{platform.url}/services/lms-api/api/v1"

    def client(username: str) -> LmsClient:
        return LmsClient(base_url=base, token=platform.new_token(username)[0])

    trainer = client("trainer")
    quiz = trainer.create_quiz("Doubling", QUESTIONS, max_attempts=1, reveal_policy="never")
    trainer.publish_quiz(quiz.id)
    students = {name: client(name) for name in ("ada", "linus", "grace")}
    right_answers = {"ada": 5, "linus": 3, "grace": 0}

    def take(name: str) -> float:
        lms = students[name]
        attempt = lms.start_quiz(quiz.id)
        for number, question in enumerate(attempt.questions):
            doubled = str(2 * int(question.text.split()[2]))
            right = number < right_answers[name]  # the first few right, the rest wrong
            pick = [o.id for o in question.options if (o.text == doubled) is right]
            lms.answer(attempt.id, question.id, pick)
        result = lms.submit_attempt(attempt.id)
        assert result.answers_revealed is False
        assert all(q.key is None for q in result.questions)
        return result.score

    with ThreadPoolExecutor(max_workers=3) as pool:
        scores = dict(zip(students, pool.map(take, students), strict=True))
    assert scores == {"ada": 5.0, "linus": 3.0, "grace": 0.0}

    with pytest.raises(LmsApiError) as raised:
        students["ada"].start_quiz(quiz.id)
    assert raised.value.code == "no_attempts_left"
    # the trainer's view: her students (ada, linus) only; the admin's: everyone
    mine = trainer.quiz_results(quiz.id)
    assert (mine.students, mine.mean_score) == (2, pytest.approx(0.8))
    office = client("office").quiz_results(quiz.id)
    assert (office.students, office.attempts) == (3, 3)
    assert office.pass_rate == pytest.approx(2 / 3)


def test_the_demo_quiz_is_there_for_the_demo_student(platform):
    ada = LmsClient(
        base_url=f"{platform.url}/services/lms-api/api/v1", token=platform.new_token("ada")[0]
    )
    demo = next(q for q in ada.quizzes().results if q.title == "SQL joins and NULLs")
    assert (demo.track, demo.status, demo.question_count) == ("DP", "published", 5)
    attempt = ada.start_quiz(demo.id)
    assert attempt.seconds_left is not None and attempt.seconds_left > 800
    assert ada.quiz(demo.id).mine.in_progress_attempt_id == attempt.id
