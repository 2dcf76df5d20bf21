"""An accessibility smoke check for every page the browser tests visit: labelled inputs, one
`h1`, and a main button the keyboard reaches."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

TAB_LIMIT = 40

# Form fields a person fills in (not the hidden ones) with no label of any kind.
UNLABELLED_FIELDS = """() =>
  Array.from(document.querySelectorAll("input, select, textarea"))
    .filter((field) => field.type !== "hidden")
    .filter((field) =>
      !(field.labels && Array.from(field.labels).some((label) => label.textContent.trim())) &&
      !field.getAttribute("aria-label") &&
      !field.getAttribute("aria-labelledby"))
    .map((field) => field.outerHTML.slice(0, 160))
"""


def tab_presses_to(page: Page, target: Locator, limit: int = TAB_LIMIT) -> int | None:
    """How many Tab presses from the top of the page put the focus on `target` (None: never)."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.evaluate("() => window.scrollTo(0, 0)")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("(element) => element === document.activeElement"):
            return presses
    return None


def assert_accessible(page: Page, main_button: Locator | None) -> None:
    """Every field has a label, the page has one `h1`, Tab reaches the main button."""
    unlabelled = page.evaluate(UNLABELLED_FIELDS)
    assert unlabelled == [], f"{page.url}: fields without a label: {unlabelled}"
    headings = page.locator("h1").all_inner_texts()
    assert len(headings) == 1, f"{page.url}: one h1 expected, found {headings}"
    if main_button is not None:
        assert tab_presses_to(page, main_button) is not None, (
            f"{page.url}: {TAB_LIMIT} Tab presses never reach {main_button}"
        )
