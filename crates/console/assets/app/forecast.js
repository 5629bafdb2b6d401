// The team cost forecast: monthly cost per team as a stacked chart (ECharts, loaded only
// here) and a table (the team tree, totals); each amount opens the lines behind it;
// what could not be costed is listed.
import { html, useState, useEffect, useRef } from '/vendor/ui.js';
import { api, withQuery } from './api.js';
import { ErrorMessage, Loading, useLoad, navigate } from './ui.js';
import { allTeams } from './people.js';

function thisMonth(offset = 0) {
  const now = new Date();
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return date.toISOString().slice(0, 7);
}

const amount = (text) => Number(text).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function ForecastScreen({ route, who }) {
  const from = route.query.get('from') ?? thisMonth();
  const to = route.query.get('to') ?? thisMonth(11);
  const teamId = route.query.get('teamId') ?? '';
  const [draft, setDraft] = useState({ from, to, teamId });
  useEffect(() => setDraft({ from, to, teamId }), [from, to, teamId]);
  const teams = useLoad(allTeams, []);
  const forecast = useLoad(() => api('GET', withQuery('/forecast', { from, to, teamId, lines: 'true' })), [from, to, teamId]);
  const [opened, setOpened] = useState(null);
  // Another range or team: what was opened is no longer on screen.
  useEffect(() => setOpened(null), [from, to, teamId]);
  const submit = (event) => {
    event.preventDefault();
    setOpened(null);
    navigate(withQuery('/forecast', draft));
  };
  return html`<h1>Forecast</h1>
    <p class="lead">Monthly cost per team in ${who.organization.currency}, from salaries, rates and open positions (a filled position costs nothing until its filler leaves).</p>
    <form class="filters" onSubmit=${submit}>
      <label>From <input type="month" name="from" required value=${draft.from} onInput=${(e) => setDraft({ ...draft, from: e.target.value })} /></label>
      <label>To <input type="month" name="to" required value=${draft.to} onInput=${(e) => setDraft({ ...draft, to: e.target.value })} /></label>
      <label>Team <select name="teamId" value=${draft.teamId} onChange=${(e) => setDraft({ ...draft, teamId: e.target.value })}>
        <option value="">all teams</option>
        ${(teams.data ?? []).map((t) => html`<option value=${t.id}>${t.name}</option>`)}</select></label>
      <button type="submit">Show</button>
    </form>
    ${forecast.loading && html`<${Loading} what="the forecast" />`}
    <${ErrorMessage} error=${forecast.error} />
    ${forecast.data && html`<${Forecast} data=${forecast.data.data} opened=${opened} open=${setOpened} />`}`;
}

/** Depth of each group in the team tree (parents come first). */
function depths(groups) {
  const depth = new Map();
  for (const group of groups) depth.set(group.id, group.parentId ? (depth.get(group.parentId) ?? -1) + 1 : 0);
  return depth;
}

/** A group's lines and, for a team, its descendants' (what its total adds up). */
function linesUnder(groups, group) {
  const under = new Set([group.id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const g of groups) if (g.parentId && under.has(g.parentId) && !under.has(g.id)) { under.add(g.id); grew = true; }
  }
  const ids = group.id === null ? new Set([null]) : under;
  return groups.filter((g) => ids.has(g.id)).flatMap((g) => (g.lines ?? []).map((line) => ({ ...line, group: g.name })));
}

function Forecast({ data, opened, open }) {
  const depth = depths(data.groups);
  // Closing the lines gives the focus back to the amount that opened them.
  const opener = useRef(null);
  const close = () => {
    open(null);
    opener.current?.focus();
  };
  const currency = data.currency;
  const openedGroup = opened && data.groups.find((g) => g.id === opened.group);
  return html`<section aria-labelledby="chart-title">
      <h2 id="chart-title">Cost per team and month</h2>
      <${Chart} data=${data} />
    </section>
    <section aria-labelledby="table-title">
      <h2 id="table-title">Table</h2>
      <p class="muted">Each amount opens the lines behind it. A team's amount includes its sub-teams.</p>
      <div class="scroll" tabindex="0" role="region" aria-label="Forecast table"><table class="list forecast">
        <caption class="visually-hidden">Cost per team and month, ${currency}</caption>
        <thead><tr><th scope="col">Team</th>${data.months.map((m) => html`<th scope="col" class="number">${m}</th>`)}</tr></thead>
        <tbody>
          ${data.groups.map((g) => html`<tr>
            <th scope="row" class=${`depth-${Math.min(depth.get(g.id) ?? 0, 4)}`}>${g.name}</th>
            ${g.total.map((value, month) => html`<td class="number"><button type="button" class="cell"
              aria-label=${`${g.name}, ${data.months[month]}: ${amount(value)} ${currency}; show the lines`}
              aria-expanded=${opened?.group === g.id && opened?.month === month}
              onClick=${(event) => { opener.current = event.currentTarget; open({ group: g.id, month }); }}>${amount(value)}</button></td>`)}
          </tr>`)}
          <tr class="total"><th scope="row">Total</th>${data.total.map((value) => html`<td class="number"><strong>${amount(value)}</strong></td>`)}</tr>
        </tbody>
      </table></div>
    </section>
    ${openedGroup && html`<${Lines} group=${openedGroup} month=${opened.month} data=${data} close=${close} />`}
    <section aria-labelledby="not-costed-title">
      <h2 id="not-costed-title">Not costed</h2>
      ${data.notCosted.length === 0 ? html`<p>Everything is costed.</p>` : html`<ul class="not-costed">${data.notCosted.map((n) => html`<li>
        <strong>${n.resourceType} ${n.externalId ?? n.id}</strong>: ${n.reason}${n.months?.length ? html`, in ${n.months.join(', ')}` : ''}
      </li>`)}</ul>`}
    </section>`;
}

function Lines({ group, month, data, close }) {
  const lines = linesUnder(data.groups, group).filter((line) => Number(line.amounts[month]) !== 0);
  const heading = useRef(null);
  useEffect(() => heading.current?.focus(), [group.id, month]);
  return html`<section class="card lines" aria-labelledby="lines-title">
    <h2 id="lines-title" tabindex="-1" ref=${heading}>${group.name}, ${data.months[month]}: ${amount(group.total[month])} ${data.currency}</h2>
    ${lines.length === 0 ? html`<p>No cost this month.</p>` : html`<table class="list">
      <caption class="visually-hidden">Lines</caption>
      <thead><tr><th scope="col">Resource</th><th scope="col">Kind</th><th scope="col">Team</th><th scope="col" class="number">Amount</th></tr></thead>
      <tbody>${lines.map((line) => html`<tr><td>${line.name} <span class="muted">${line.externalId ?? ''}</span></td><td>${line.resourceType}</td><td>${line.group}</td><td class="number">${amount(line.amounts[month])}</td></tr>`)}</tbody>
    </table>`}
    <button type="button" onClick=${close}>Close</button>
  </section>`;
}

let charts = null;
function loadCharts() {
  charts ??= import('/vendor/chart.js');
  return charts;
}

/** Each group's own cost stacked per month: the stack's height is the month's total. */
function Chart({ data }) {
  const host = useRef(null);
  useEffect(() => {
    let chart = null;
    let live = true;
    const resize = () => chart?.resize();
    loadCharts().then(({ echarts }) => {
      if (!live || !host.current) return;
      chart = echarts.init(host.current, null, { renderer: 'svg' });
      const series = data.groups
        .filter((g) => g.own.some((value) => Number(value) !== 0))
        .map((g) => ({ name: g.name, type: 'bar', stack: 'cost', data: g.own.map(Number), emphasis: { focus: 'series' } }));
      chart.setOption({
        animation: false,
        // Patterns as well as colours; the description is ours (ECharts' generated one
        // reads out every number, which the table below does better).
        aria: { enabled: true, decal: { show: true }, label: { description: host.current.getAttribute('aria-label') } },
        tooltip: { trigger: 'axis', valueFormatter: (value) => `${amount(value)} ${data.currency}` },
        legend: { type: 'scroll', top: 0 },
        grid: { left: 70, right: 16, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: data.months },
        yAxis: { type: 'value', axisLabel: { formatter: (value) => `${Math.round(value / 1000)}k` } },
        series,
      });
      host.current.dataset.ready = 'true';
      window.addEventListener('resize', resize);
    });
    return () => {
      live = false;
      window.removeEventListener('resize', resize);
      chart?.dispose();
    };
  }, [data]);
  return html`<div class="chart" ref=${host} role="img" aria-label=${`Stacked bar chart of the monthly cost per team, ${data.months[0]} to ${data.months[data.months.length - 1]}; the table below has every number`}></div>`;
}
