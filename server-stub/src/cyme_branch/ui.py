"""`GET /ui`: the admin page, a live view of the branch that acts through its API.

Like `/docs`, the page is one self-contained HTML document built once per
process (browsers.Page gives it its Content-Security-Policy): its style
sheets and scripts are inlined, so it loads nothing else and works without
internet access. They are files of this package (`static/`), so that
`make serve` needs no build step: uPlot's release build as it is published,
with its licence (`uPlot.LICENSE`, also kept in the inlined script as the
licence asks), and the page's own `ui.js` and `ui.css`, written by hand.

The page is the same for every branch and every visitor: it holds nothing
of the branch, which is why `getUI` needs no token. What it shows it reads
through the API, with the token the visitor gives it (ui.js).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from .browsers import Page
from .docs import CONTENT_TYPE, inline_script, inline_style
from .operations import Reply

if TYPE_CHECKING:
    from .branch import Branch
    from .validation import Inputs

TITLE = "Cyme admin"
STATIC = resources.files("cyme_branch") / "static"


async def get_ui(branch: Branch, inputs: Inputs, _: None) -> Reply:
    """The effect of `getUI`."""
    return Reply(200, admin_page(branch).html, content_type=CONTENT_TYPE)


def admin_page(branch: Branch) -> Page:
    """The admin page and its headers: `getUI` in handlers.PAGES."""
    return page()


@cache
def page() -> Page:
    return Page.of(build_page())


def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def build_page() -> str:
    licence = _read("uPlot.LICENSE").replace("*/", "* /")
    return _TEMPLATE.format(
        title=TITLE,
        uplot_css=inline_style(_read("uPlot.min.css")),
        css=inline_style(_read("ui.css")),
        uplot_js=inline_script(f"/*! uPlot\n{licence}*/\n{_read('uPlot.iife.min.js')}"),
        js=inline_script(_read("ui.js")),
    )


# The page's skeleton: ui.js fills <main> once it knows whether it may read
# the branch (a token is asked for first on a branch that has one).
# `{{` and `}}` are literal braces (str.format).
_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>
{uplot_css}
</style>
<style>
{css}
</style>
</head>
<body>
<header>
<h1>Cyme <span id="branch-name"></span></h1>
<p id="status" role="status" aria-live="polite">Loading…</p>
<button type="button" id="logout" hidden>Log out</button>
</header>
<main id="main">
<form id="login" hidden novalidate>
<h2>Log in</h2>
<p>This branch has a token. It is kept in this tab only, until it is closed.</p>
<div class="field">
<label for="login-token">Token</label>
<input id="login-token" type="password" autocomplete="off" required
 aria-describedby="login-token-error">
<span class="error" id="login-token-error"></span>
</div>
<button type="submit">Log in</button>
</form>
<div id="admin" hidden>
<section id="branches" aria-labelledby="branches-title">
<h2 id="branches-title">Branches</h2>
<table>
<thead><tr><th scope="col">Branch</th><th scope="col">URL</th>
<th scope="col">Supervisor</th><th scope="col">State</th></tr></thead>
<tbody id="branch-rows"></tbody>
</table>
</section>
<section id="new-app" aria-labelledby="new-app-title">
<h2 id="new-app-title">New app</h2>
<form id="app-form" class="inline" novalidate>
<div class="field">
<label for="app-name">Name</label>
<input id="app-name" data-field="app" required aria-describedby="app-name-error">
<span class="error" id="app-name-error"></span>
</div>
<div class="field">
<label for="app-broker">Broker URL</label>
<input id="app-broker" data-field="broker" placeholder="amqp://" autocomplete="off"
 aria-describedby="app-broker-error">
<span class="error" id="app-broker-error"></span>
</div>
<button type="submit">Create app</button>
<p class="message" role="alert"></p>
</form>
</section>
<div id="apps"></div>
</div>
</main>
<script>
{uplot_js}
</script>
<script>
{js}
</script>
</body>
</html>
"""
