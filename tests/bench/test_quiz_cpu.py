"""The in-process CPU meter of the quiz flow runs its flows, each answer checked, and reports
every step (its figures are in bench/README.md; no timing is asserted here)."""

from bench import quiz_cpu
from tests.conftest import postgres_admin_url


def test_the_cpu_meter_runs_checked_flows_and_reports_each_step(capsys):
    quiz_cpu.main(["--flows", "2", "--batches", "2", "--postgres-url", postgres_admin_url()])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["start", "answer", "submit", "the"]
    assert lines[1].split()[1] == "20"  # 2 flows x 10 answers


def test_an_answer_is_four_round_trips(capsys):
    """BEGIN, the account check with the attempt, the lock-upsert-log statement, COMMIT."""
    quiz_cpu.main(["--trace", "--postgres-url", postgres_admin_url()])
    log = capsys.readouterr().out.splitlines()
    requests, current = [], []
    for line in log:
        current.append(line)
        if line == "COMMIT":
            requests.append(current)
            current = []
    answers = [r for r in requests if any(s.startswith("WITH claimed") for s in r)]
    assert len(answers) == 10, log
    for sent in answers:
        assert len(sent) == 4 and sent.count("BEGIN") == 1, sent
