"""A notebook handed in and reviewed through the real hub proxy, as a workspace would do it."""

import hashlib

import httpx
import nbformat
import pytest

from lms_api.client import LmsApiError, LmsClient

pytestmark = pytest.mark.e2e


def test_a_notebook_goes_through_the_proxy_to_the_trainer(platform, tmp_path):
    base = f"{platform.url}/services/lms-api/api/v1"
    ada = LmsClient(base_url=base, token=platform.new_token("ada")[0])
    trainer = LmsClient(base_url=base, token=platform.new_token("trainer")[0])
    linus = LmsClient(base_url=base, token=platform.new_token("linus")[0])

    project = ada.track("DP").projects[-1]  # the capstone: nobody else submits there
    notebook = next(d for d in ada.project(project.id).deliverables if d.kind == "notebook")
    path = tmp_path / "capstone.ipynb"
    path.write_text(nbformat.writes(nbformat.v4.new_notebook()))
    submitted = ada.submit_file(notebook.id, path, note="through the proxy")
    version = submitted.versions[-1]
    assert version.download_url.startswith(f"{base}/submissions/{submitted.id}/")

    # the bytes are on disk in the service's upload folder, named by their hash
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (platform.state_dir / "uploads" / digest[:2] / digest).read_bytes() == path.read_bytes()

    assert trainer.download(submitted.id, version.number) == path.read_bytes()
    with pytest.raises(LmsApiError) as raised:
        linus.download(submitted.id, version.number)
    assert raised.value.status == 404
    reviewed = trainer.review(submitted.id, version.number, "approve", "Well done.")
    assert reviewed.status == "approved"
    assert ada.submission(submitted.id).history[-1].feedback == "Well done."


def test_an_upload_over_the_limit_gets_the_413_through_the_proxy(platform):
    """The proxy writes the whole body before it reads the answer: lms-api reads and drops a
    refused body (up to its drain cap) so that the 413 reaches the user, not the proxy's 503
    page, and the next requests go through (issue 18, item 10)."""
    base = f"{platform.url}/services/lms-api/api/v1"
    headers = {"Authorization": f"Bearer {platform.new_token('ada')[0]}"}
    size = 24 * 1024 * 1024  # over the default limit (20 MiB + 1 MiB), within the drain cap
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        declared = client.post(
            "/submissions/upload",
            data={"deliverable_id": "1"},
            files={"file": ("big.ipynb", b"x" * size, "application/octet-stream")},
        )

        def chunks():
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.ipynb"\r\n\r\n'
            for _ in range(size // 65536):
                yield b"x" * 65536

        streamed = client.post(  # no Content-Length: chunked through the proxy
            "/submissions/upload",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        after = client.get("/tracks/DP")
    for refused in (declared, streamed):
        assert refused.status_code == 413, refused.text[:300]
        assert refused.headers["content-type"] == "application/json"
        error = refused.json()["error"]
        assert error["code"] == "too_large" and "at most" in error["message"], error
    assert declared.json()["error"]["details"] == {"max_body_bytes": 21 * 1024 * 1024}
    assert after.status_code == 200, after.text[:300]
    assert after.json()["code"] == "DP"
