"""A browser page in its own context (its own Streamlit session) that keeps every websocket frame it
receives, so a test can say whether a secret ever reached the browser."""

from __future__ import annotations

from tests.support.browser import wait_for_app


class RecordedPage:
    """A page in its own browser context (its own Streamlit session), keeping every websocket frame received."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.received: list[bytes] = []
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._keep))
        self.url = url

    def _keep(self, payload) -> None:
        self.received.append(payload.encode() if isinstance(payload, str) else bytes(payload))

    def open(self, path: str, until: str) -> None:
        """Open a URL (a new Streamlit session) and wait until `until` is shown."""
        self.page.goto(f"{self.url}/{path}")
        self.wait_for(until)

    def navigate(self, label: str, until: str) -> None:
        """Follow the sidebar link, as a user does: the same Streamlit session, unlike a reload."""
        self.page.locator(".st-key-nav a", has_text=label).first.click()
        self.wait_for(until)

    def wait_for(self, text: str) -> None:
        self.page.get_by_text(text).first.wait_for(timeout=30_000)
        wait_for_app(self.page)

    def enter_token(self, token: str, *, save: bool = False) -> None:
        """On the Settings page: paste the token, choose where it lives, press Enter (the field is in a form)."""
        self._submit_secret("Access token", token, save_choice="Saved to the Hugging Face token file" if save else None,
                            button=None, until="Token accepted for")

    def enter_server_key(self, base_url: str, key: str, *, save: bool = False) -> None:
        """On the Settings page: a key for a server not saved in Settings (this session's, or saved)."""
        self.page.get_by_role("textbox", name="Base URL", exact=True).fill(base_url)
        self._submit_secret("API key", key, save_choice="Saved on this machine" if save else None,
                            button="Use this key", until=f"API key for {base_url}")

    def _submit_secret(self, label: str, secret: str, *, save_choice: str | None, button: str | None,
                       until: str) -> None:
        """Fill the field and press Enter, then click `button` unless Enter alone submits (None)."""
        if save_choice:
            self.page.get_by_text(save_choice).click()
            wait_for_app(self.page)
        field = self.page.get_by_role("textbox", name=label, exact=True)
        field.fill(secret)
        field.press("Enter")
        wait_for_app(self.page)
        if button:
            self.page.get_by_role("button", name=button).click()
        self.wait_for(until)

    def shows(self, text: str) -> bool:
        return text in self.page.inner_text("body")

    def holds(self, secret: str) -> list[str]:
        """Where in what this browser received `secret` appears."""
        found = []
        if secret in self.page.content():
            found.append("DOM")
        if any(secret.encode() in frame for frame in self.received):
            found.append("websocket frames")
        return found

    def close(self) -> None:
        self.context.close()
