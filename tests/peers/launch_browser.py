"""A browser for launch tests: a cookie jar that follows the platform's redirects and
submits its auto-posting form, as a learner's browser does."""

from __future__ import annotations

import requests

from tests.peers.form_post import AutoPostForm


class LaunchBrowser:
    def __init__(self) -> None:
        self.session = requests.Session()

    def open_link(self, launch_url: str) -> AutoPostForm:
        """Click the link in the LMS: through the tool's login to the platform's form."""
        page = self.session.get(launch_url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        return AutoPostForm(page.text)

    def submit(self, form: AutoPostForm, action: str | None = None) -> requests.Response:
        """Post the launch form (to `action` instead, to reach another instance)."""
        return self.session.post(action or form.action, data=form.fields, timeout=10)

    def launch(self, launch_url: str) -> requests.Response:
        return self.submit(self.open_link(launch_url))

    def close(self) -> None:
        self.session.close()
