"""The step page: safe Markdown, done / not done with the progress service, and the read rule."""

from bs4 import BeautifulSoup

from lms_api.portal.markdown import to_html
from tests.lms_api.conftest import rows

V1 = "/api/v1"


def test_markdown_is_rendered_inert():
    html = str(
        to_html(
            "# Title\n\n<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
            "[x](javascript:alert(1)) [y](JavaScript:alert(1)) [z](java%0ascript:alert(1)) "
            "![i](data:text/html,hi) [ok](https://example.org/a) **bold**"
        )
    )
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None and soup.find("img") is None
    assert "&lt;script&gt;" in html
    assert [a["href"] for a in soup.find_all("a")] == ["https://example.org/a"]
    assert soup.find("a")["rel"] == ["noopener", "noreferrer", "nofollow"]
    assert soup.find("h1") is None and soup.find("h3").get_text() == "Title"  # page keeps its h1
    assert soup.find("strong").get_text() == "bold"
    assert not any(tag.attrs.get("onerror") for tag in soup.find_all(True))


def done_steps(api, auth) -> set[int]:
    report = api.get(f"{V1}/progress/me", headers=auth("ada")).json()
    return {
        s["id"] for t in report["tracks"] for p in t["projects"] for s in p["steps"] if s["done"]
    }


def test_ada_marks_a_step_done_and_undoes_it(api, auth, browser, database_url):
    ada = browser("ada")
    report = api.get(f"{V1}/progress/me", headers=auth("ada")).json()
    project = report["tracks"][0]["projects"][0]
    step = project["steps"][1]["id"]
    page = ada.get(f"/portal/steps/{step}")
    assert page.status_code == 200, page.text
    soup = BeautifulSoup(page.text, "html.parser")
    assert len(soup.find_all("h1")) == 1 and "Clean it" in soup.h1.get_text()
    crumbs = [li.get_text(" ", strip=True) for li in soup.select(".breadcrumb li")]
    assert crumbs == ["Data Professional", f"Project 1: {project['title']}", "Step 2"]
    assert soup.select_one("#step-state").get_text(strip=True) == "Not done"
    assert soup.select_one("#step-description").get_text(strip=True) == "Clean it."
    links = [a.get_text(strip=True) for a in soup.select("#deliverables a")]
    assert links == ["Notebook", "Write-up link"]
    assert soup.select_one("#mark-done") is not None

    refused = ada.post(f"/portal/steps/{step}/done", csrf=None)
    assert refused.status_code == 403 and done_steps(api, auth) == set()

    for _ in range(2):  # a double click acts once
        marked = ada.post(f"/portal/steps/{step}/done")
        assert marked.status_code == 303
        assert marked.headers["location"].endswith(f"/portal/steps/{step}?done=marked")
    assert done_steps(api, auth) == {step}
    assert rows(database_url, "SELECT COUNT(*) FROM step_completions") == [(1,)]
    soup = BeautifulSoup(ada.get(f"/portal/steps/{step}?done=marked").text, "html.parser")
    assert soup.select_one("#notice").get_text(strip=True) == "Marked as done."
    assert soup.select_one("#step-state").get_text(" ", strip=True).startswith("Done")
    assert soup.select_one("#undo") is not None and soup.select_one("#mark-done") is None

    for _ in range(2):
        undone = ada.post(f"/portal/steps/{step}/undo")
        assert undone.status_code == 303
    assert done_steps(api, auth) == set()
    soup = BeautifulSoup(ada.get(f"/portal/steps/{step}").text, "html.parser")
    assert soup.select_one("#step-state").get_text(strip=True) == "Not done"

    # The track's read rule, as the API's: linus (FSD) is refused ada's DP step.
    api_answer = api.get(f"{V1}/projects/{project['id']}", headers=auth("linus"))
    linus = browser("linus")
    other = linus.get(f"/portal/steps/{step}")
    assert other.status_code == api_answer.status_code == 403
    assert linus.post(f"/portal/steps/{step}/done").status_code == 403
    assert browser("ada").get("/portal/steps/999999").status_code == 404
    assert done_steps(api, auth) == set()
