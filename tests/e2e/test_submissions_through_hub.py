"""A notebook handed in and reviewed through the real hub proxy, as a workspace would do it."""

import hashlib

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
