// The HTML report: one self-contained page (no CDN, fonts, images or requests), readable on a
// phone, charts as inline SVG (svg.ts), tables sortable by a few lines of inline script that only
// enhance them (without it they are plain tables, problems first). Every string that came from a
// server (host names, accounts, domains, IPs, messages, reasons) goes through htmlText():
// printable() first (no control, escape or bidi characters), then HTML-escaped.
import { createHash } from 'node:crypto';
import { formatDuration } from '../alerts/duration.js';
import { incidentCommand, topRules } from '../alerts/render.js';
import type { HostEvidence, Incident, RunHostRow } from '../alerts/store.js';
import { htmlText } from '../text/printable.js';
import type { AccountSeries, HtmlReportData, QueueSeries } from './data.js';
import { lineChart } from './svg.js';

const h = (s: string | number, max = 200) => htmlText(String(s), { max });
const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
const sevClass = (s: string) => (s === 'critical' ? 'critical' : 'warning');
/** A number from the store as text: Number() so a tampered JSON blob cannot smuggle markup in as a "count". */
const num = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(Number(n)));

const STYLE = `
:root{--fg:#1b1f24;--muted:#5b6470;--line:#d0d7de;--bg:#fff;--card:#f6f8fa;--crit:#b42318;--warn:#b54708;--ok:#067647;--accent:#1f5fbf}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:12px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.4em;margin:.2em 0}#accounts h3{margin-top:1.2em}h2{font-size:1.15em;margin:1.4em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1em;margin:0 0 .3em}
.meta,.note,figcaption{color:var(--muted);font-size:.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;list-style:none;padding:0;margin:.6em 0}
.cards li{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.cards b{display:block;font-size:1.5em}
.critical{color:var(--crit)}.warning{color:var(--warn)}.ok{color:var(--ok)}.bad{color:var(--crit)}
.incident{border:1px solid var(--line);border-left:5px solid var(--warn);border-radius:6px;padding:8px 10px;margin:8px 0;overflow-wrap:anywhere}
.incident.critical{border-left-color:var(--crit)}.incident.critical,.incident.warning{color:var(--fg)}
.badge{display:inline-block;font-size:.75em;font-weight:700;padding:1px 6px;border-radius:4px;color:#fff;background:var(--warn);vertical-align:middle}
.badge.critical{background:var(--crit)}
details{margin:6px 0}summary{cursor:pointer}
ul.ev{margin:.3em 0;padding-left:1.2em}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--card);padding:1px 4px;border-radius:3px;white-space:pre-wrap;word-break:break-all}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.wrap{overflow-wrap:anywhere;min-width:10em}td.name{white-space:nowrap}
th button{all:inherit;cursor:pointer;font-weight:700}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:10px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px;overflow-wrap:anywhere}
svg.chart{width:100%;height:auto;display:block}
svg .axis{stroke:#8c959f;stroke-width:1}svg .grid{stroke:#eaeef2;stroke-width:1}
svg .tick{font-size:10px;fill:var(--muted)}
svg .series{fill:none;stroke:var(--accent);stroke-width:1.5}
svg .pt{fill:var(--accent)}svg .pt.alarm{fill:var(--crit)}
svg .avg{fill:none;stroke:#8c959f;stroke-width:1.2;stroke-dasharray:4 3}
svg .allowed{fill:none;stroke:var(--warn);stroke-width:1}
.legend span{margin-right:1em}.legend .k-allowed{color:var(--warn)}.legend .k-alarm{color:var(--crit)}
@media (max-width:600px){body{padding:8px;font-size:14px}th,td{padding:3px 5px}}
`;

// Progressive enhancement: header buttons sort the rows (numbers by data-v). Never innerHTML.
const SCRIPT = `(function(){
function key(td){var v=td.getAttribute('data-v');return v!==null?Number(v):td.textContent.trim().toLowerCase();}
document.querySelectorAll('table.sortable').forEach(function(t){
var ths=t.querySelectorAll('thead th');
ths.forEach(function(th,i){
var b=document.createElement('button');b.type='button';b.textContent=th.textContent;th.textContent='';th.appendChild(b);
b.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending';
ths.forEach(function(o){o.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);var r=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));return asc?r:-r;});
rows.forEach(function(r){body.appendChild(r);});
});});});
})();`;

const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
/** No request of any kind, only this page's own style and script: even a missed escape could not run or fetch anything. */
const CSP = `default-src 'none'; style-src ${sha(STYLE)}; script-src ${sha(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;

function overview(d: HtmlReportData): string {
  const ok = d.hosts.filter((x) => x.status === 'ok').length;
  const unfinished = d.hosts.filter((x) => x.status === 'unfinished').length;
  const failed = d.hosts.length - ok - unfinished;
  const crit = d.open.filter((i) => i.severity === 'critical').length;
  const queued = d.hosts.reduce((s, x) => s + (x.queue?.total ?? 0), 0);
  const accounts = d.open.filter((i) => i.kind === 'account').length;
  const cards = [
    `<li><b>${d.hosts.length}</b>hosts in the last run</li>`,
    `<li><b class="${failed ? 'bad' : 'ok'}">${failed}</b>could not be scanned</li>`,
    unfinished ? `<li><b class="bad">${unfinished}</b>cut by the deadline</li>` : '',
    `<li><b class="${crit ? 'critical' : d.open.length ? 'warning' : 'ok'}">${d.open.length}</b>open incidents (${crit} critical)</li>`,
    `<li><b class="${accounts ? 'critical' : 'ok'}">${accounts}</b>flagged accounts</li>`,
    `<li><b>${queued}</b>messages queued</li>`,
  ];
  const run = d.lastRun;
  const errs = run ? Object.entries(run.channelErrors) : [];
  const runLine = run
    ? `Last run ${when(run.startedAt)}${run.finishedAt !== null ? `, took ${formatDuration(Math.max(0, run.finishedAt - run.startedAt))}` : ', did not finish'}; exit code ${num(run.exitCode)}.`
    : 'No report run recorded yet.';
  return [
    `<ul class="cards">${cards.join('')}</ul>`,
    `<p class="meta">${runLine}</p>`,
    errs.length
      ? `<p class="bad">Channels that failed in the last run (their notices are retried): ${errs.map(([c, e]) => `${h(c, 80)}: ${h(e, 300)}`).join('; ')}</p>`
      : '',
  ].join('\n');
}

function evidenceItem(i: Incident, e: HostEvidence, inventory?: string): string {
  const li: string[] = [];
  if (e.sent !== undefined)
    li.push(`sent ${num(e.sent)} message(s) to ${num(e.recipients ?? 0)} recipient(s); ${num(e.queued ?? 0)} still queued`);
  if (e.senderDomains?.length) li.push(`sender domains: ${e.senderDomains.map(([dom, c]) => `${h(dom, 100)} (${num(c)})`).join(', ')}`);
  if (e.clientIps?.length)
    li.push(
      `client IPs (${num(e.clientIpCount ?? e.clientIps.length)}): ${e.clientIps.map((ip) => h(ip, 60)).join(', ')}${(e.clientIpCount ?? 0) > e.clientIps.length ? ', …' : ''}`,
    );
  if (e.sampleSubject) li.push(`sample subject: “${h(e.sampleSubject.subject, 200)}” (<code>${h(e.sampleSubject.id, 40)}</code>)`);
  if (e.sampleIds?.length) li.push(`sample queued messages: ${e.sampleIds.map((x) => `<code>${h(x, 40)}</code>`).join(' ')}`);
  if (e.queueTotal !== undefined) li.push(`queue: ${num(e.queueTotal)} message(s)`);
  for (const m of e.messages) li.push(h(m, 300));
  // incidentCommand() is already printable and shell-quoted; htmlText() only escapes it for HTML.
  li.push(`next: <code>${htmlText(incidentCommand(i, e.host, inventory))}</code>`);
  return `<details open><summary><b>${h(e.host, 120)}</b> <span class="${sevClass(e.severity)}">${sevClass(e.severity)}</span> — ${e.rules.map((r) => h(r, 60)).join(', ')}</summary><ul class="ev">${li.map((x) => `<li>${x}</li>`).join('')}</ul></details>`;
}

function incidents(d: HtmlReportData): string {
  if (!d.open.length) return '<p class="ok">No open incidents.</p>';
  const sorted = [...d.open].sort(
    (a, b) => Number(b.severity === 'critical') - Number(a.severity === 'critical') || a.openedAt - b.openedAt,
  );
  return sorted
    .map((i) => {
      const sev = sevClass(i.severity);
      const what =
        i.kind === 'account' ? `account ${h(i.subject)}` : i.kind === 'status' ? `hosts ${h(i.subject)}` : `host ${h(i.subject)}`;
      const rules = topRules(i)
        .map(([r, c]) => `${h(r, 60)} (${c} host${c === 1 ? '' : 's'})`)
        .join(', ');
      return [
        `<article class="incident ${sev}" data-incident="${num(i.id)}">`,
        `<h3><span class="badge ${sev}">${sev.toUpperCase()}</span> ${what} on ${i.hosts.length} host${i.hosts.length === 1 ? '' : 's'}</h3>`,
        `<p class="meta">Open since ${when(i.openedAt)} (${formatDuration(Math.max(0, d.generatedAt - i.openedAt))}), last seen ${when(i.lastSeenAt)}. Top rules: ${rules}.</p>`,
        ...i.evidence.map((e) => evidenceItem(i, e, d.inventory)),
        '</article>',
      ].join('\n');
    })
    .join('\n');
}

function hostsTable(hosts: RunHostRow[]): string {
  if (!hosts.length) return '<p class="note">No hosts recorded yet.</p>';
  const sorted = [...hosts].sort(
    (a, b) =>
      Number(b.status !== 'ok') - Number(a.status !== 'ok') ||
      (b.queue?.total ?? -1) - (a.queue?.total ?? -1) ||
      a.host.localeCompare(b.host),
  );
  const rows = sorted.map((x) => {
    const q = x.queue;
    const cls = x.status === 'ok' ? 'ok' : 'bad';
    const oldest = q?.oldestSeconds ?? null;
    return `<tr><td class="name">${h(x.host, 120)}</td><td class="${cls}">${h(x.status, 40)}</td><td>${h(x.mta ?? '', 20)}</td><td class="n" data-v="${q?.total ?? -1}">${num(q?.total)}</td><td class="n" data-v="${q?.frozen ?? -1}">${num(q?.frozen)}</td><td class="n" data-v="${q?.bounces ?? -1}">${num(q?.bounces)}</td><td class="n" data-v="${oldest ?? -1}">${oldest === null ? '' : formatDuration(oldest * 1000)}</td><td class="n" data-v="${x.durationMs}">${(x.durationMs / 1000).toFixed(1)} s</td><td class="wrap">${h(x.reason ?? '', 300)}</td></tr>`;
  });
  return `<div class="table-wrap"><table class="sortable" id="hosts"><thead><tr><th>host</th><th>status</th><th>MTA</th><th class="n">queue</th><th class="n">frozen</th><th class="n">bounces</th><th class="n">oldest</th><th class="n">scan</th><th>reason</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

function queueChart(s: QueueSeries, from: number, to: number): string {
  const chart = lineChart({
    name: `queue size of ${s.host}`,
    kind: 'queue',
    xFrom: from,
    xTo: to,
    series: s.points.map((p) => ({ x: p.at, y: p.total, label: `${when(p.at)}: ${p.total} queued` })),
    xLabels: [when(from).slice(0, 10), when(to).slice(0, 10)],
  });
  const missed = s.missed ? `; queue not read in ${s.missed} run(s)` : '';
  return `<figure data-host="${h(s.host, 120)}">${chart}<figcaption><b>${h(s.host, 120)}</b> — peak ${s.peak}, last read ${s.points.at(-1)?.total ?? '–'}${missed}</figcaption></figure>`;
}

function accountChart(a: AccountSeries): string {
  const x = (day: string) => Date.parse(`${day}T12:00:00Z`);
  const from = x(a.days[0]!.day) - 43_200_000;
  const to = x(a.days.at(-1)!.day) + 43_200_000;
  const withAvg = a.days.filter((d) => d.average !== null);
  const chart = lineChart({
    name: `daily sends of ${a.authId} on ${a.host}`,
    kind: 'sends',
    xFrom: from,
    xTo: to,
    series: a.days.map((d) => ({
      x: x(d.day),
      y: d.sent,
      alarm: d.sent > d.allowed,
      label: `${d.day}: ${d.sent} sent; baseline ${d.average === null ? 'none (new account)' : d.average.toFixed(1)}/day, allowed ${Math.round(d.allowed)}`,
    })),
    lines: [
      { className: 'allowed', points: a.days.map((d) => ({ x: x(d.day), y: d.allowed })) },
      { className: 'avg', points: withAvg.map((d) => ({ x: x(d.day), y: d.average! })) },
    ],
    xLabels: [a.days[0]!.day, a.days.at(-1)!.day],
  });
  const last = a.days.at(-1)!;
  return `<figure data-account="${h(a.authId)}" data-host="${h(a.host, 120)}">${chart}<figcaption><b>${h(a.authId)}</b> on ${h(a.host, 120)}${a.flagged ? ' <span class="badge critical">OPEN</span>' : ''} — peak ${a.peak}/day, ${last.day}: ${last.sent} (allowed ${Math.round(last.allowed)})</figcaption></figure>`;
}

function sendersTable(d: HtmlReportData): string {
  if (!d.senders.length) return '';
  const rows = d.senders.map(
    (s) =>
      `<tr><td class="wrap">${h(s.authId)}</td><td class="name">${h(s.host, 120)}</td><td class="n" data-v="${s.total}">${s.total}</td><td class="n" data-v="${s.peak}">${s.peak}</td><td class="n" data-v="${s.days}">${s.days}</td></tr>`,
  );
  return `<h3>Busiest accounts since ${d.fromDay}</h3><div class="table-wrap"><table class="sortable" id="senders"><thead><tr><th>account</th><th>host</th><th class="n">sent</th><th class="n">peak day</th><th class="n">days</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

/** The fleet's days, as `mailsweep history` prints them (the command named so one can dig per host or account). */
function trendTable(d: HtmlReportData): string {
  if (!d.trend || !d.trend.days.length) return '<p class="note">No runs recorded in this window.</p>';
  const cell = (v: number | null) => (v === null ? `<td class="n" data-v="-1">·</td>` : `<td class="n" data-v="${v}">${v}</td>`);
  const rows = d.trend.days.map(
    (x) =>
      `<tr><td>${h(x.day, 12)}</td><td class="n" data-v="${x.runs}">${x.runs}</td>${cell(x.sends)}${cell(x.queue)}<td class="n" data-v="${x.findings}">${x.findings}</td></tr>`,
  );
  return `<p class="note">The same figures as <code>mailsweep history</code> (add a host or an account: <code>mailsweep history mx1</code>, <code>mailsweep history bob@example.com</code>). Sends ${h(d.trend.sparklines.sends, 400)}; queue ${h(d.trend.sparklines.queue, 400)}.</p><div class="table-wrap"><table class="sortable" id="trend"><thead><tr><th>day</th><th class="n">runs</th><th class="n">sent</th><th class="n">peak queue</th><th class="n">findings</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

export function renderHtml(d: HtmlReportData, version = ''): string {
  const from = d.generatedAt - d.windowDays * 86_400_000;
  const queue = d.queue.length
    ? `<div class="charts">${d.queue.map((s) => queueChart(s, from, d.generatedAt)).join('\n')}</div>${d.queueNotCharted ? `<p class="note">${d.queueNotCharted} more host(s) not charted (problems and the biggest queues first); see the table above.</p>` : ''}`
    : '<p class="note">No runs recorded in this window.</p>';
  const accounts = !d.hasHistory
    ? '<p class="note">No baseline history (the report ran with --no-history or --no-attribution).</p>'
    : d.accounts.length
      ? `<p class="legend note"><span>● sent that day</span><span class="k-alarm">● above what the baseline allows</span><span>- - baseline average (previous working days)</span><span class="k-allowed">— allowed (baseline rule, default settings)</span></p><div class="charts">${d.accounts.map(accountChart).join('\n')}</div>`
      : '<p class="note">No per-account history in this window.</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>mailsweep fleet report ${when(d.generatedAt)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>mailsweep fleet report</h1><p class="meta">Generated ${when(d.generatedAt)}; charts cover the last ${d.windowDays} day(s) (since ${d.fromDay}).</p></header>
<section id="overview"><h2>Fleet overview</h2>
${overview(d)}
</section>
<section id="incidents"><h2>Open incidents (${d.open.length})</h2>
${incidents(d)}
</section>
<section id="hosts-section"><h2>Hosts in the last run</h2>
${hostsTable(d.hosts)}
</section>
<section id="queues"><h2>Queue size per host</h2>
${queue}
</section>
<section id="accounts"><h2>Daily sends per account vs baseline</h2>
${accounts}
${sendersTable(d)}
</section>
<section id="history"><h2>Fleet history per day</h2>
${trendTable(d)}
</section>
<footer><p class="note">mailsweep ${h(version, 40)} — one self-contained file: no external fonts, scripts or requests. Sorting the tables needs JavaScript; everything else does not.</p></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
