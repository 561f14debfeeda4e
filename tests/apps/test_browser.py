"""A real Chromium (Debian's ``chromium`` package, driven by Playwright) logs in, uploads a document to the
documents tab, watches the answer stream and its citation, then logs in as another user who cannot see (nor
use, when typing its name) that collection. The uploaded file is written here; the hub is ``secured_hub``."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOLIDAYS = "# Holiday policy\n\nEmployees receive 27 days of paid holiday per year. Unused days expire on 31 March.\n"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} is absent; install it with `apt-get install -y chromium` to run browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def log_in(page, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Signed in as").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Documents").click()


def test_upload_ask_and_isolation_in_a_real_browser(browser, secured_hub, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    upload = tmp_path / "holidays.md"
    upload.write_text(HOLIDAYS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    log_in(page, secured_hub.url, "alice", secured_hub.passwords["alice"])
    knowledge_base = page.get_by_role("combobox", name="Knowledge base")
    expect(knowledge_base).to_have_value("policies")  # her only grant, filled in at page load
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("holidays.md").first.wait_for(timeout=90_000)  # the upload is slow on a busy 2-core box
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text("policies: 1 added").wait_for(timeout=60_000)

    page.evaluate(  # remember whether the page ever showed the answer while it was still being written
        """() => { window.streamed = false; new MutationObserver(() => {
            if (document.body.innerText.includes('Answering...')) window.streamed = true; })
            .observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    page.get_by_role("textbox", name="Question").fill("How many days of paid holiday do employees receive?")
    page.get_by_role("button", name="Ask").click()
    page.get_by_text("holidays.md").last.wait_for(timeout=90_000)  # the citation panel names the file
    expect(page.get_by_text("Employees receive 27 days").first).to_be_visible()
    assert page.evaluate("window.streamed")

    page.goto(secured_hub.url + "logout")
    log_in(page, secured_hub.url, "bob", secured_hub.passwords["bob"])
    expect(knowledge_base).to_have_value("secret-kb")
    knowledge_base.click()
    assert [option.strip("✓ \n") for option in page.get_by_role("option").all_inner_texts()] == ["secret-kb"]
    page.keyboard.press("Escape")
    knowledge_base.fill("policies")  # typing the name is checked on the server, not only hidden
    page.keyboard.press("Enter")
    page.get_by_role("textbox", name="Question").fill("How many days of paid holiday?")
    page.get_by_role("button", name="Ask").click()
    page.get_by_text("no access to collection 'policies'").first.wait_for(timeout=30_000)
    expect(page.get_by_text("27 days")).to_have_count(0)
    page.close()
