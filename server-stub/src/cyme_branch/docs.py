"""`GET /docs`: the API reference page, Swagger UI with the spec built in.

The page is one self-contained HTML document: Swagger UI 5's script and
style sheet (from the `openapi-ui-bundles` package, so from this machine's
disk) and the branch's own spec are inlined, so the page loads no other
resource, works without internet access and needs no token to fetch
`/openapi.yaml`. It is built on the first request and kept for the life of
the process, with its Content-Security-Policy (browsers.Page): the page's
two scripts and two style sheets by their hashes, nothing else inline and
nothing from elsewhere. Swagger UI 5 runs under it as it is: it evaluates
no strings as code and sets its styles through the DOM, which the policy
allows, so neither 'unsafe-eval' nor 'unsafe-inline' is needed.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import weakref
from functools import cache
from typing import TYPE_CHECKING, Any

from openapi_ui_bundles.swagger_ui import static_path as swagger_ui_path

from .browsers import Page
from .operations import Reply

if TYPE_CHECKING:
    from .branch import Branch
    from .spec import Spec
    from .validation import Inputs

TITLE = "Cyme branch API"
CONTENT_TYPE = "text/html; charset=utf-8"

_SOURCE_MAP = re.compile(
    r"^\s*(//# sourceMappingURL=\S*|/\*# sourceMappingURL=\S*\s*\*/)\s*$", re.M
)
# The sequences that change how an HTML parser reads a <script> element's
# text; written as `\x3C...` they mean the same in a JavaScript string,
# regular expression or comment (the advice of the HTML standard, 4.12.1.3).
_SCRIPT_UNSAFE = re.compile(r"<(?=!--|/?script)", re.I)

_PAGES: weakref.WeakKeyDictionary[Spec, Page] = weakref.WeakKeyDictionary()


async def get_docs(branch: Branch, inputs: Inputs, _: None) -> Reply:
    """The effect of `getDocs`."""
    return Reply(200, reference_page(branch).html, content_type=CONTENT_TYPE)


def reference_page(branch: Branch) -> Page:
    """The branch's reference page: `getDocs` in handlers.PAGES."""
    return page(branch.spec)


def page(spec: Spec) -> Page:
    """The reference page of `spec` and its headers, built once per spec."""
    built = _PAGES.get(spec)
    if built is None:
        built = _PAGES[spec] = Page.of(build_page(spec.document))
    return built


def build_page(document: dict[str, Any]) -> str:
    assets = _assets()
    return _TEMPLATE.format(
        title=TITLE,
        icon=assets["icon"],
        css=assets["css"],
        js=assets["js"],
        spec=script_json(document),
    )


def script_json(value: Any) -> str:
    """`value` as JSON that can stand in a <script> element as it is.

    `<`, `>` and `&` (which only occur inside strings) are written as
    `\\u003c` and so on, so the text can neither close the element nor open
    an HTML comment; `ensure_ascii` escapes U+2028 and U+2029 too.
    """
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=_json_default)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_default(value: Any) -> str:
    # YAML reads an unquoted 2024-01-01 as a date; JSON has no such type.
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def inline_script(js: str) -> str:
    """A script's text, ready to stand in a <script> element: without its
    source map comment (the map is not served), and with the sequences that
    would end the element or open an HTML comment written as `\\x3C...`."""
    return _SCRIPT_UNSAFE.sub(r"\\x3C", _SOURCE_MAP.sub("", js))


def inline_style(css: str) -> str:
    """A style sheet's text, ready to stand in a <style> element."""
    # In CSS, `<` occurs only in strings and comments, where `<\/` means `</`.
    return _SOURCE_MAP.sub("", css).replace("</", "<\\/")


@cache
def _assets() -> dict[str, str]:
    """Swagger UI's files, read from the installed package, ready to inline."""
    js = (swagger_ui_path / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    css = (swagger_ui_path / "swagger-ui.css").read_text(encoding="utf-8")
    icon = (swagger_ui_path / "favicon-32x32.png").read_bytes()
    return {
        "js": inline_script(js),
        "css": inline_style(css),
        "icon": "data:image/png;base64," + base64.b64encode(icon).decode("ascii"),
    }


# `{{` and `}}` are literal braces (str.format).
_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{icon}">
<style>
{css}
</style>
<style>
html {{ box-sizing: border-box; overflow-y: scroll; }}
*, *:before, *:after {{ box-sizing: inherit; }}
body {{ margin: 0; background: #fafafa; }}
</style>
</head>
<body>
<div id="swagger-ui"></div>
<script>
{js}
</script>
<script>
(function () {{
  "use strict";
  var spec = {spec};
  // "Try it out" sends its requests to the branch that served this page.
  var here = window.location.origin + "/";
  var servers = spec.servers || [];
  if (!servers.some(function (s) {{ return s.url === here; }})) {{
    spec.servers = [{{url: here, description: "This branch"}}].concat(servers);
  }}
  window.ui = SwaggerUIBundle({{
    spec: spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    tryItOutEnabled: false
  }});
}})();
</script>
</body>
</html>
"""
