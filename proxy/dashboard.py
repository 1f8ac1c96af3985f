"""The admin listener's HTML dashboard: one page, server-rendered, no build step, no assets.

Everything shown from the report is customer data (route names, diff values, response bodies),
so every value goes through :func:`html.escape` here and nowhere is markup assembled in the
browser from data: the page's one script only swaps in server-rendered fragments, sets
``textContent`` and calls the admin API. A per-response CSP nonce keeps any script that slipped
through inert as well (defence in depth).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

__all__ = ["DashboardRoute", "csp", "render_live", "render_page"]

_DASH = "—"


@dataclass(frozen=True, slots=True)
class DashboardRoute:
    name: str
    mode: str  # as a person reads it: "canary 10%"


def csp(nonce: str) -> str:
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: Any, spec: str, suffix: str = "") -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _DASH
    return f"{value:{spec}}{suffix}"


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _latency(entry: Mapping[str, Any], side: str) -> str:
    p50 = _num(_get(entry, "latency_ms", side, "p50"), ".1f")
    p99 = _num(_get(entry, "latency_ms", side, "p99"), ".1f")
    return f"{p50} / {p99}"


def _billing(entry: Mapping[str, Any]) -> str:
    billing = entry.get("billing")
    if not isinstance(billing, Mapping):
        return _DASH
    delta = _num(billing.get("delta_credits"), "+.4f")
    ratio = billing.get("delta_ratio")
    text = (
        f"{delta} ({_num(ratio * 100, '+.2f', '%')})" if isinstance(ratio, int | float) else delta
    )
    missing = billing.get("missing")
    if isinstance(missing, int) and missing:
        text += f", {missing} missing"
    return text


def _top_diffs(entry: Mapping[str, Any], limit: int = 3) -> str:
    diffs = entry.get("top_diffs") or []
    shown = [
        f"<code>{_e(d.get('path'))}</code> x{_e(d.get('count'))}"
        for d in diffs[:limit]
        if isinstance(d, Mapping)
    ]
    return ", ".join(shown) or _DASH


def _row(route: DashboardRoute, entry: Mapping[str, Any] | None, selected: bool) -> str:
    entry = entry or {}
    link = f'<a href="/dashboard?route={_e(quote(route.name, safe=""))}">{_e(route.name)}</a>'
    name = _e(route.name)
    cells = [
        link,
        _e(route.mode),
        _num(entry.get("compared"), ".0f"),
        _num(entry["parity"] * 100, ".2f", "%")
        if isinstance(entry.get("parity"), int | float)
        else _DASH,
        _latency(entry, "legacy"),
        _latency(entry, "candidate"),
        _e(_billing(entry)),
        _num(entry.get("candidate_errors"), ".0f"),
        _top_diffs(entry),
        f'<button data-action="promote" data-route="{name}">promote</button> '
        f'<button data-action="rollback" data-route="{name}">rollback</button>',
    ]
    marker = ' class="selected"' if selected else ""
    tds = "".join(f"<td>{c}</td>" for c in cells)
    return f'<tr data-route="{name}"{marker}>{tds}</tr>'


def _body_text(side: Any) -> str:
    body = _get(side, "body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return str(body)
    return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True)


def _example(diff: Mapping[str, Any], example: Mapping[str, Any] | None) -> str:
    head = (
        f"<h3><code>{_e(diff.get('path'))}</code> {_e(diff.get('kind') or '')} "
        f"<small>{_e(diff.get('count'))} times, rate {_num(diff.get('rate'), '.3f')}</small></h3>"
    )
    if example is None:
        return f'<section class="diff">{head}<p>no example kept</p></section>'
    change = example.get("diff") if isinstance(example.get("diff"), Mapping) else {}
    assert isinstance(change, Mapping)
    sides = "".join(
        f'<div class="side {side}"><h4>{side} '
        f"<small>status {_e(_get(example, side, 'status') or _DASH)}</small></h4>"
        f"<pre>{_e(_body_text(example.get(side)))}</pre></div>"
        for side in ("legacy", "candidate")
    )
    return (
        f'<section class="diff">{head}'
        f'<p class="change">request <code>{_e(example.get("request_id"))}</code>: '
        f"<code>{_e(change.get('path'))}</code> {_e(change.get('kind'))}: "
        f"legacy <code>{_e(json.dumps(change.get('control'), ensure_ascii=False))}</code> → "
        f"candidate <code>{_e(json.dumps(change.get('candidate'), ensure_ascii=False))}</code></p>"
        f'<div class="sides">{sides}</div></section>'
    )


def render_live(
    routes: Sequence[DashboardRoute],
    report: Mapping[str, Any] | None,
    *,
    window: str,
    problem: str | None = None,
    selected: str | None = None,
    examples: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> str:
    """The part of the page that refreshes: the routes table and the selected route's diffs."""
    entries = {
        e.get("route"): e for e in ((report or {}).get("routes") or ()) if isinstance(e, Mapping)
    }
    header = "".join(
        f"<th>{h}</th>"
        for h in ("route", "mode", "compared", "parity", "legacy ms p50 / p99",
                  "candidate ms p50 / p99", "billing delta (credits)", "candidate errors",
                  "top diffs", "")
    )  # fmt: skip
    rows = "".join(_row(r, entries.get(r.name), r.name == selected) for r in routes)
    parts = []
    if problem:
        parts.append(f'<p class="problem">{_e(problem)}</p>')
    parts.append(
        f'<p class="window">shadow evidence over the last {_e(window)}</p>'
        f'<table id="routes"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'
    )
    if selected is not None:
        entry = entries.get(selected) or {}
        diffs = [d for d in entry.get("top_diffs") or () if isinstance(d, Mapping)]
        shown = "".join(_example(d, (examples or {}).get(str(d.get("path")))) for d in diffs)
        parts.append(
            f'<div id="detail" data-route="{_e(selected)}"><h2>{_e(selected)}: top diffs</h2>'
            f"{shown or '<p>no diffs over the window</p>'}</div>"
        )
    return "".join(parts)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left}
tr.selected{background:#eef5ff}code,pre{font:12px ui-monospace,monospace}
.sides{display:flex;gap:1em}.side{flex:1;min-width:0}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em;white-space:pre-wrap}
.problem,#message.refused{color:#a00}#message.done{color:#060}
#controls{margin:1em 0}#controls input[type=text]{width:30em}
"""

# One script: buttons call the admin API (the HttpOnly cookie authenticates; the custom header
# proves the call comes from this page), answers are shown with textContent, and the live part
# is re-fetched every 5 s as server-rendered HTML.
_SCRIPT = """
const reason = document.getElementById('reason');
const message = document.getElementById('message');
const live = document.getElementById('live');
function say(kind, title, lines, force) {
  message.className = kind;
  message.replaceChildren();
  const h = document.createElement('strong');
  h.textContent = title;
  message.append(h);
  if (lines.length) {
    const ul = document.createElement('ul');
    for (const line of lines) {
      const li = document.createElement('li');
      li.className = 'gate';
      li.textContent = line;
      ul.append(li);
    }
    message.append(ul);
  }
  if (force) {
    const b = document.createElement('button');
    b.id = 'force';
    b.textContent = 'force promote ' + force + ' (needs a reason; audited)';
    b.addEventListener('click', () => call(force, 'promote', true));
    message.append(b);
  }
}
async function call(route, action, force) {
  const response = await fetch('/routes/' + encodeURIComponent(route) + '/' + action, {
    method: 'POST', credentials: 'same-origin',
    headers: {'content-type': 'application/json', 'x-banyan-dashboard': '1'},
    body: JSON.stringify({reason: reason.value, force: !!force, actor: 'dashboard'}),
  });
  const data = await response.json().catch(() => ({}));
  if (response.ok) {
    const c = data.change;
    const text = (s) => s.mode === 'canary' ? 'canary ' + s.canary_percent + '%' : s.mode;
    say('done', route + ': ' + text(c.from) + ' \u2192 ' + text(c.to) + ' (change #' + c.id + ')',
        [], null);
    refresh();
    return;
  }
  const gates = (data.gates || []).map((g) => g.gate + ': ' + g.message);
  const problem = (data.error && data.error.message) || response.statusText;
  say('refused', action + ' ' + route + ' refused (' + response.status + '): ' + problem,
      gates, gates.length && action === 'promote' ? route : null);
}
document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (button) call(button.dataset.route, button.dataset.action, false);
});
async function refresh() {
  const response = await fetch('/dashboard/live' + location.search, {credentials: 'same-origin'});
  if (response.ok) live.innerHTML = await response.text();
}
setInterval(refresh, 5000);
"""


def render_page(live_html: str, *, nonce: str) -> str:
    n = _e(nonce)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Banyan routes</title>"
        '<meta name="viewport" content="width=device-width">'
        '<noscript><meta http-equiv="refresh" content="5"></noscript>'
        f"<style nonce={n}>{_STYLE}</style></head><body>"
        '<h1><a href="/dashboard">Banyan routes</a></h1>'
        '<div id="controls"><label>reason for a change (audited): '
        '<input type="text" id="reason" autocomplete="off"></label></div>'
        '<div id="message" role="status"></div>'
        f'<div id="live">{live_html}</div>'
        f"<script nonce={n}>{_SCRIPT}</script></body></html>"
    )
