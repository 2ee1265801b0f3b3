"""Helpers of the browser tests: sign in, check accessibility with axe-core, keep a
screenshot of every page looked at."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "mot-de-passe-des-tests-e2e"


CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = event.sourceFile ? ` (${event.sourceFile}:${event.lineNumber})` : "";
  const what = event.target && event.target.outerHTML ? event.target.outerHTML.slice(0, 120) : "";
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}${where} ${what}`);
});
"""
"""Run in every page before its own scripts: records what the Content-Security-Policy
blocked, so that ``check_page`` fails on a page the policy breaks."""


def new_context(browser: Browser) -> BrowserContext:
    """A fresh context (no cookies) in French and Paris time, watching the page's policy."""
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_WATCH)
    return context


def sign_in(page: Page, base_url: str, email: str, next_path: str | None = None) -> None:
    target = f"{base_url}/connexion" + (f"?suivant={next_path}" if next_path else "")
    page.goto(target)
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core finds on the page as it stands.

    axe-core is evaluated through the browser's debugging protocol rather than added as a
    ``<script>``: the pages' policy refuses inline scripts, as it should."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text("utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS,
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [node["target"] for node in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {json.dumps(targets)}")
    return "\n".join(lines)


def assert_policy_kept(page: Page, name: str) -> None:
    """Nothing on the page was blocked by the Content-Security-Policy, and the DSFR's script
    ran (it marks the document ``data-fr-js``)."""
    blocked = page.evaluate("window.__cspViolations ?? null")
    assert blocked is not None, "page opened without tests.support.browser.new_context"
    assert not blocked, f"la politique de sécurité a bloqué sur « {name} » : {blocked}"
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")


def check_page(page: Page, name: str) -> None:
    """Screenshot under tests/artifacts/<name>.png, then fail on anything the
    Content-Security-Policy blocked, on a DSFR whose script did not start, or on any axe
    violation."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": Playwright's default hides the text caret by styling the page, which
    # the policy rightly blocks and would be reported as the page's own violation.
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")
    assert_policy_kept(page, name)
    violations = axe_violations(page)
    assert not violations, f"axe-core on « {name} » ({page.url}):\n{describe(violations)}"
