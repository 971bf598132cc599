"""The portal's "My progress" page: the API's numbers, as percentages, and the quiz history."""

import pytest
from bs4 import BeautifulSoup

from tests.lms_api.conftest import PortalBrowser

V1 = "/api/v1"


@pytest.fixture
def browser(api, hub_tokens):
    """`browser("ada")`, on the `api` client's event loop: pages and API calls then share the
    app's pooled connections (a browser on a loop of its own breaks them once it closes)."""

    def signed_in(username: str) -> PortalBrowser:
        made = PortalBrowser(api.app, hub_tokens(username))
        made.client.portal = api.portal
        return made

    return signed_in


def page(browser, username: str) -> BeautifulSoup:
    response = browser(username).get("/portal/progress")
    assert response.status_code == 200, response.text
    return BeautifulSoup(response.text, "html.parser")


def whole(text: str) -> int:
    assert text.endswith("%"), text
    return int(text.removesuffix("%"))


def test_the_page_shows_the_apis_percent_and_follows_a_step_marked_done(api, auth, browser):
    before = page(browser, "ada")
    assert before.h1.get_text(strip=True) == "My progress"
    assert (
        before.select_one("#progress-DP h2")
        .get_text(" ", strip=True)
        .startswith("Data Professional")
    )
    assert whole(before.select_one("#progress-DP .track-percent").get_text()) == 0

    report = api.get(f"{V1}/progress/me", headers=auth("ada")).json()
    first_step = report["tracks"][0]["projects"][0]["steps"][0]["id"]
    marked = api.put(f"{V1}/progress/steps/{first_step}", headers=auth("ada"))
    assert marked.status_code == 201, marked.text
    dp = api.get(f"{V1}/progress/me", headers=auth("ada")).json()["tracks"][0]
    assert (dp["steps_done"], dp["steps_total"]) == (1, 8)

    after = page(browser, "ada")
    shown = whole(after.select_one("#progress-DP .track-percent").get_text())
    assert shown != 0 and abs(shown - dp["pct_complete"]) <= 0.5  # 12.5 shown whole
    summary = after.select_one("#track-DP-summary").get_text(" ", strip=True)
    assert "1 of 8 steps" in summary
    bar = after.select_one("#progress-DP [role=progressbar]")
    assert float(bar["aria-valuenow"]) == dp["pct_complete"]
    assert bar["aria-valuemax"] == "100"
    project = dp["projects"][0]  # 1 of 3 steps: 33.3
    percents = [whole(p.get_text()) for p in after.select("#progress-DP .project-percent")]
    assert percents[0] == round(project["pct_complete"]) == 33
    assert len(after.find_all("h1")) == 1


def test_the_quiz_history_shows_each_attempt_and_the_best_score(api, auth, browser):
    quiz = api.get(f"{V1}/quizzes", headers=auth("ada")).json()["results"][0]
    empty = page(browser, "ada").select_one(f"#quiz-{quiz['id']}").find_parent(class_="card")
    assert "Not tried yet" in empty.get_text()

    started = api.post(f"{V1}/quizzes/{quiz['id']}/attempts", headers=auth("ada")).json()
    question = next(q for q in started["questions"] if "every customer" in q["text"])
    right = next(o["id"] for o in question["options"] if "LEFT JOIN" in o["text"])
    saved = api.put(
        f"{V1}/attempts/{started['id']}/answers/{question['id']}",
        json={"option_ids": [right]},
        headers=auth("ada"),
    )
    assert saved.status_code == 200, saved.text
    result = api.post(f"{V1}/attempts/{started['id']}/submit", headers=auth("ada")).json()
    mine = api.get(f"{V1}/quizzes/{quiz['id']}", headers=auth("ada")).json()["mine"]
    assert mine["best_score"] == result["score_fraction"] == 0.2

    card = page(browser, "ada").select_one(f"#quiz-{quiz['id']}").find_parent(class_="card")
    assert card.select_one(".best-score").get_text(strip=True) == "20%"
    (row,) = card.select("tr.attempt")
    cells = [c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])]
    assert cells[0] == "Attempt 1" and cells[1][:4].isdigit()
    assert cells[2] == "20%"
    assert cells[3].startswith("Submitted")


def test_without_an_enrollment_the_page_points_to_the_catalog(browser):
    grace = page(browser, "grace")
    link = grace.select_one("#not-enrolled a#catalog-link")
    assert link["href"].endswith("/portal/catalog")
    assert not grace.select("[role=progressbar]")
    trainer = page(browser, "trainer")
    assert "dashboards" in trainer.select_one("#staff-note").get_text()
