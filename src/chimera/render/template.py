"""The page's Jinja2 template and its inline style sheet (no script, no external resource)."""

from __future__ import annotations

# Loaded by the browser before anything else: nothing may be fetched (default-src 'none'),
# images only from data: URIs, styles only from this page; no <base>, no form submission.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2330;
  font: 15px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; background: #fff;
  min-height: 100vh; box-shadow: 0 0 0 1px #e3e5ea; }
h1 { font-size: 1.75rem; margin: 0.2em 0 0.4em; line-height: 1.25; }
h2 { font-size: 1.3rem; margin: 2em 0 0.6em; padding-bottom: 0.25em;
  border-bottom: 2px solid #e3e5ea; }
h3 { font-size: 1.12rem; margin: 1.5em 0 0.5em; }
h4, h5, h6 { font-size: 1rem; margin: 1.2em 0 0.4em; }
p, li { overflow-wrap: anywhere; }
nav { margin: 0.8em 0 0; font-size: 0.9rem; }
nav a { color: #3366aa; text-decoration: none; margin-right: 1em; white-space: nowrap; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px;
  margin: 0.6em 0 0; font-size: 0.92rem; }
dl.meta dt { color: #5b6475; font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.note { border-left: 4px solid #c9a227; background: #fdf8e6; padding: 8px 12px;
  margin: 1em 0; overflow-wrap: anywhere; }
.note.error { border-color: #c0392b; background: #fbecea; }
.table-wrap { overflow-x: auto; margin: 0.8em 0 1.2em; }
table { border-collapse: collapse; font-size: 0.86rem; }
caption { text-align: left; font-weight: 600; padding: 0 0 6px; color: #3a4252; }
th, td { border: 1px solid #dde0e6; padding: 4px 8px; vertical-align: top; text-align: left;
  white-space: pre-line; overflow-wrap: break-word; }
th { background: #f0f2f5; font-weight: 600; }
details { margin: 0.8em 0 1.2em; }
summary { cursor: pointer; font-weight: 600; color: #3a4252; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1em 0 1.6em; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e3e5ea; }
figcaption { font-size: 0.85rem; color: #5b6475; margin-top: 4px; }
pre { background: #f6f7f9; border: 1px solid #e3e5ea; padding: 10px 12px; overflow-x: auto;
  font-size: 0.82rem; line-height: 1.45; white-space: pre-wrap; overflow-wrap: anywhere; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 0.9em; }
.markdown { border-left: 3px solid #e3e5ea; padding-left: 16px; }
.markdown table { width: auto; }
.url, .image { color: #5b6475; font-size: 0.9em; overflow-wrap: anywhere; }
.link { text-decoration: underline dotted; }
footer { margin-top: 3em; font-size: 0.8rem; color: #5b6475; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<header>
<h1>{{ title }}</h1>
{%- if meta %}
<dl class="meta">
{%- for key, value in meta %}
<dt>{{ key }}</dt><dd>{{ value }}</dd>
{%- endfor %}
</dl>
{%- endif %}
{%- if sections|length > 2 %}
<nav>{% for s in sections %}<a href="#{{ s.anchor }}">{{ s.heading }}</a> {% endfor %}</nav>
{%- endif %}
</header>
{%- for s in sections %}
<section id="{{ s.anchor }}">
<h2>{{ s.heading }}</h2>
{%- for n in s.notes %}
<div class="note{% if n.error %} error{% endif %}">{{ n.text }}</div>
{%- endfor %}
{%- for p in s.paragraphs %}
<p>{{ p }}</p>
{%- endfor %}
{%- if s.bullets %}
<ul>
{%- for item in s.bullets %}
<li>{{ item }}</li>
{%- endfor %}
</ul>
{%- endif %}
{%- for block in s.markdown %}
<div class="markdown">{{ block }}</div>
{%- endfor %}
{%- for t in s.tables %}
{%- if t.collapsed %}
<details><summary>{{ t.caption or "Table" }} ({{ t.rows|length }} rows)</summary>
{%- endif %}
<div class="table-wrap"><table>
{%- if t.caption and not t.collapsed %}<caption>{{ t.caption }}</caption>{% endif %}
<thead><tr>
{%- for h in t.columns %}<th{% if loop.index0 in t.numeric %} class="num"{% endif %}>{{ h }}</th>
{%- endfor %}</tr></thead>
<tbody>
{%- for row in t.rows %}
<tr>{% for cell in row %}<td{% if loop.index0 in t.numeric %} class="num"{% endif %}>{{ cell }}</td>
{%- endfor %}</tr>
{%- endfor %}
</tbody>
</table></div>
{%- if t.collapsed %}
</details>
{%- endif %}
{%- endfor %}
{%- for img in s.images %}
<figure><img src="{{ img.uri }}" alt="{{ img.alt }}" width="{{ img.width }}" \
height="{{ img.height }}">
{%- if img.caption %}<figcaption>{{ img.caption }}</figcaption>{% endif %}</figure>
{%- endfor %}
{%- for block in s.preformatted %}
<pre>{{ block }}</pre>
{%- endfor %}
</section>
{%- endfor %}
<footer>{{ footer }}</footer>
</main>
</body>
</html>
"""
