// The HTML report's inline style sheet and script (report_html.cpp): inline, so the page needs nothing
// beyond itself. The script only filters and folds; the page reads the same without it.
#pragma once

namespace parley::conform::html_assets {

constexpr const char* style = R"(
:root{--pass:#1b7a35;--fail:#b3261e;--warn:#9a5b00;--blocked:#7a6400;--error:#7b1fa2;--flaky:#c2185b;--skip:#5f6b7a}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;margin:0 auto;max-width:1500px;padding:0 2em 3em}
h1{font-size:1.6em;margin:.6em 0 .2em}h2{margin-top:1.6em;border-bottom:2px solid #ddd}h3{margin:.2em 0}
code,pre,.mono,.timeline td{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f5f5f5;border:1px solid #e2e2e2;padding:6px 8px;max-height:32em;overflow:auto}
table{border-collapse:collapse}th,td{padding:3px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #e6e6e6}
th{background:#fafafa}[id]{scroll-margin-top:5em}
.verdict{display:inline-block;min-width:6.5em;padding:0 4px;border-radius:3px;color:#fff;font-weight:600;text-align:center;background:var(--skip)}
.v-pass{background:var(--pass)}.v-fail{background:var(--fail)}.v-warn{background:var(--warn)}.v-blocked{background:var(--blocked)}
.v-error{background:var(--error)}.v-flaky{background:var(--flaky)}.v-not-impl{background:#2f6f8f}
.v-untestable,.v-not-selected{background:#fff;color:#555;border:1px solid #aaa}
.banner{font-size:1.15em;padding:8px 12px;border-radius:4px;color:#fff}
.facts th{position:static;width:9em}.muted{color:#666}.filtered{display:none!important}
#filters{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #ccc;padding:6px 0}
#filters fieldset{display:inline-block;border:1px solid #ccc;margin:0 8px 0 0;padding:2px 8px}
#filters label{margin-right:10px;white-space:nowrap}
#rule-table{width:100%}#rule-table td:first-child{white-space:nowrap}#rule-table td:nth-child(5){max-width:40em}
.rule-detail{border:1px solid #ddd;border-left:6px solid var(--skip);border-radius:4px;padding:8px 14px;margin:14px 0}
.rule-detail[data-verdict=FAIL]{border-left-color:var(--fail)}.rule-detail[data-verdict=WARN]{border-left-color:var(--warn)}
.rule-detail[data-verdict=BLOCKED]{border-left-color:var(--blocked)}.rule-detail[data-verdict=ERROR]{border-left-color:var(--error)}
.rule-detail[data-verdict=FLAKY]{border-left-color:var(--flaky)}
.case{margin:10px 0 4px;padding-left:10px;border-left:3px solid #eee}.case h4{margin:4px 0}
.why{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}.why dt{font-weight:600}.why dd{margin:0}
.why dd.message{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12.5px}
.why dd,.results td{overflow-wrap:anywhere}.results td:first-child{white-space:nowrap}
.timeline{width:100%;table-layout:fixed;margin:4px 0 8px}.timeline th.t,.timeline td.t{width:6.5em;text-align:right;color:#555}
.timeline td.e{white-space:pre-wrap;overflow-wrap:anywhere}.timeline td{border-bottom:1px solid #f0f0f0}
.timeline .d{font-weight:700;margin-right:.5em}
.dir-sent td.e{color:#0b4f8a}.dir-recv td.e{color:#1d1d1f;background:#f3f8f1}.dir-event td.e{color:#6a3d9a;font-style:italic}
.dir-over td.e{color:#888}.hide-foreign tr.foreign{display:none}
details.case-entry{margin:3px 0}details.case-entry>summary{cursor:pointer}
)";

// Only filters and toggles: the page reads whole without it.
constexpr const char* script = R"(
(function () {
  'use strict';
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#filters input[data-kind]'));
  function applyFilters() {
    var off = {};
    boxes.forEach(function (b) { if (!b.checked) off[b.getAttribute('data-kind') + ':' + b.value] = true; });
    document.querySelectorAll('[data-verdict]').forEach(function (el) {
      var hide = off['verdict:' + el.getAttribute('data-verdict')] || off['level:' + el.getAttribute('data-level')];
      el.classList.toggle('filtered', !!hide);
    });
  }
  var foreign = document.getElementById('show-foreign');
  function applyForeign() { document.body.classList.toggle('hide-foreign', !!foreign && !foreign.checked); }
  // A link to a rule or case that a filter hides shows it rather than going nowhere.
  function reveal() {
    var el = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    for (; el; el = el.parentElement) {
      el.classList.remove('filtered');
      if (el.tagName === 'DETAILS') el.open = true;
    }
  }
  boxes.forEach(function (b) { b.addEventListener('change', applyFilters); });
  if (foreign) foreign.addEventListener('change', applyForeign);
  window.addEventListener('hashchange', reveal);
  applyFilters();
  applyForeign();
  reveal();
})();
)";

}  // namespace parley::conform::html_assets
