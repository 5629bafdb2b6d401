// Executions: a hook's, newest first, filtered and paged by the URL; one execution's detail,
// updating by itself while it runs.
import { html, useState, useEffect, useRef } from '/vendor/ui.js';
import { api, segment, withQuery } from './api.js';
import { ErrorMessage, Loading, Pager, Status, formatBytes, formatDuration, formatTime, useLoad, navigate } from './ui.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'skipped'];
const TRIGGERS = ['manual', 'schedule', 'event'];
const LEVELS = ['info', 'warn', 'error'];
const LIVE = new Set(['queued', 'running']);
const PAGE_SIZE = 20;

/** Calls `load` now, then again after `fast` ms while its answer says `live`, else after
 * `slow` ms (`null`: stop), and after `slow` ms (or `fast`) when a call failed. A change of
 * `deps` starts afresh, showing nothing of the previous answers. */
function usePolling(load, deps, { fast = 1000, slow = 5000 } = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    let live = true;
    let timer = null;
    let latest = null;
    setState({ data: null, error: null, loading: true });
    const tick = async () => {
      try {
        const data = await load();
        if (!live) return;
        latest = data;
        setState({ data, error: null, loading: false });
        const wait = data.live ? fast : slow;
        if (wait !== null) timer = setTimeout(tick, wait);
      } catch (error) {
        if (!live) return;
        setState({ data: latest, error, loading: false });
        timer = setTimeout(tick, slow ?? fast * 5);
      }
    };
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, deps);
  return state;
}

/** Totals over an execution's pages. */
export function totals(execution) {
  const sum = { created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0 };
  for (const page of execution.pages ?? []) {
    for (const key of ['created', 'updated', 'unchanged', 'deleted']) sum[key] += page[key] ?? 0;
    sum.failed += page.errors?.length ?? 0;
  }
  return sum;
}

function highestLevel(execution) {
  const logs = execution.record?.logs ?? [];
  let best = -1;
  for (const entry of logs) best = Math.max(best, LEVELS.indexOf(entry.level));
  return best < 0 ? null : LEVELS[best];
}

function firstLine(text) {
  return text ? text.split('\n')[0] : '';
}

function duration(execution) {
  if (execution.record?.durationMs !== undefined) return execution.record.durationMs;
  if (!execution.finishedAt) return Date.now() - new Date(execution.startedAt).getTime();
  return new Date(execution.finishedAt).getTime() - new Date(execution.startedAt).getTime();
}

export function ExecutionList({ hook, route, who }) {
  const status = route.query.get('status') ?? '';
  const trigger = route.query.get('trigger') ?? '';
  const page = Number(route.query.get('page')) || 1;
  const list = usePolling(async () => {
    const answer = await api('GET', withQuery(`/hooks/${segment(hook.id)}/executions`, { status, trigger, page, limit: PAGE_SIZE }));
    return { ...answer, live: answer.data.some((e) => LIVE.has(e.status)) };
  }, [hook.id, status, trigger, page]);
  // Filters and the page live in the URL, so a filtered list can be shared and reloaded.
  const go = (change) => {
    const next = { status, trigger, page, ...change };
    navigate(withQuery(`/hooks/${segment(hook.id)}`, next));
  };
  const tz = who.organization.timezone;
  return html`<form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>Status <select name="status" value=${status} onChange=${(e) => go({ status: e.target.value, page: 1 })}>
        <option value="">any</option>${STATUSES.map((s) => html`<option value=${s}>${s.replace('_', ' ')}</option>`)}</select></label>
      <label>Trigger <select name="trigger" value=${trigger} onChange=${(e) => go({ trigger: e.target.value, page: 1 })}>
        <option value="">any</option>${TRIGGERS.map((t) => html`<option value=${t}>${t}</option>`)}</select></label>
    </form>
    ${list.loading && html`<${Loading} what="executions" />`}
    <${ErrorMessage} error=${list.error} />
    ${list.data && (list.data.data.length === 0
      ? html`<p>No executions${status || trigger ? ' match these filters' : ' yet'}.</p>`
      : html`<div class="scroll" tabindex="0" role="region" aria-label="Executions table"><table class="list executions">
          <caption class="visually-hidden">Executions, newest first</caption>
          <thead><tr>
            <th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Started</th><th scope="col">Duration</th>
            <th scope="col">Pages</th><th scope="col"><abbr title="created / updated / unchanged / deleted / failed">Records</abbr></th>
            <th scope="col">HTTP</th><th scope="col">Logs</th><th scope="col">Error</th>
          </tr></thead>
          <tbody>${list.data.data.map((e) => {
            const sum = totals(e);
            const level = highestLevel(e);
            return html`<tr class=${`row-${e.status}`}>
              <td><a href=${`#/executions/${segment(e.id)}`} aria-label=${`${e.status.replace('_', ' ')} execution, started ${formatTime(e.startedAt, tz)}`}><${Status} status=${e.status} /></a></td>
              <td>${e.trigger}</td>
              <td>${formatTime(e.startedAt, tz)}</td>
              <td>${e.status === 'queued' || e.status === 'skipped' ? '—' : formatDuration(duration(e))}</td>
              <td>${e.pages?.length ?? 0}</td>
              <td class="counts">${sum.created} / ${sum.updated} / ${sum.unchanged} / ${sum.deleted} / <span class=${sum.failed ? 'bad' : ''}>${sum.failed}</span></td>
              <td>${e.record?.httpRequests?.length ?? '—'}</td>
              <td>${level ? html`<span class=${`level level-${level}`}>${level}</span>` : '—'}</td>
              <td class="error-cell">${firstLine(e.error)}</td>
            </tr>`;
          })}</tbody>
        </table></div>`)}
    <${Pager} meta=${list.data?.meta} go=${(p) => go({ page: p })} label="Execution pages" />`;
}

export function ExecutionScreen({ id, who }) {
  const execution = usePolling(async () => {
    const answer = await api('GET', `/executions/${segment(id)}`);
    return { ...answer.data, live: LIVE.has(answer.data.status) };
  }, [id], { fast: 1000, slow: null });
  if (execution.loading) return html`<${Loading} what="the execution" />`;
  if (!execution.data) return html`<h1>Execution</h1><${ErrorMessage} error=${execution.error} />`;
  const e = execution.data;
  const tz = who.organization.timezone;
  const sum = totals(e);
  const record = e.record ?? {};
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href=${`#/hooks/${segment(e.hookId)}`}>Hook</a></nav>
    <h1>Execution <${Status} status=${e.status} /></h1>
    <div aria-live="polite" class="visually-hidden">${LIVE.has(e.status) ? `Execution ${e.status}` : `Execution ${e.status.replace('_', ' ')}`}</div>
    <${ErrorMessage} error=${execution.error} />
    <dl class="facts">
      <dt>Trigger</dt><dd>${e.trigger}</dd>
      <dt>Started</dt><dd>${formatTime(e.startedAt, tz)}</dd>
      <dt>Finished</dt><dd>${formatTime(e.finishedAt, tz)}</dd>
      <dt>Duration</dt><dd>${e.status === 'queued' ? '—' : formatDuration(duration(e))}</dd>
      <dt>Records</dt><dd>${sum.created} created, ${sum.updated} updated, ${sum.unchanged} unchanged, ${sum.deleted} deleted, ${sum.failed} failed</dd>
      ${e.eventId && html`<dt>Event</dt><dd><code>${e.eventId}</code></dd>`}
    </dl>
    ${e.error && html`<section class="failure" aria-labelledby="error-title"><h2 id="error-title">Error</h2>
      <pre class="message">${e.error}</pre>
      ${record.error?.stack && html`<${Stack} stack=${record.error.stack} hookId=${e.hookId} />`}</section>`}
    <${Pages} pages=${e.pages ?? []} />
    <${Logs} logs=${record.logs ?? []} startedAt=${e.startedAt} />
    <${HttpCalls} calls=${record.httpRequests ?? []} />
    ${record.warnings?.length > 0 && html`<section aria-labelledby="warnings-title"><h2 id="warnings-title">Warnings</h2><ul>${record.warnings.map((w) => html`<li>${w}</li>`)}</ul></section>`}`;
}

/** Each `hook.js:LINE:COLUMN` of the stack opens the editor at that line. */
function Stack({ stack, hookId }) {
  const lines = stack.split('\n').filter((line) => line.trim());
  return html`<h3>Stack</h3><ol class="stack">${lines.map((line) => {
    const at = line.match(/\(?([^\s()]+\.js):(\d+)(?::(\d+))?\)?/);
    if (!at || at[1].startsWith('<')) return html`<li><code>${line.trim()}</code></li>`;
    return html`<li><a href=${withQuery(`#/hooks/${segment(hookId)}`, { line: at[2] })}><code>${line.trim()}</code></a></li>`;
  })}</ol>`;
}

function Pages({ pages }) {
  if (pages.length === 0) return null;
  const errors = pages.flatMap((p) => (p.errors ?? []).map((error) => ({ ...error, page: p.index })));
  return html`<section aria-labelledby="pages-title"><h2 id="pages-title">Pages</h2>
    <div class="scroll" tabindex="0" role="region" aria-label="Pages table"><table class="list"><caption class="visually-hidden">Pages</caption>
      <thead><tr><th scope="col">Page</th><th scope="col">Records</th><th scope="col">Created</th><th scope="col">Updated</th><th scope="col">Unchanged</th><th scope="col">Deleted</th><th scope="col">Failed</th><th scope="col">Nested</th></tr></thead>
      <tbody>${pages.map((p) => html`<tr>
        <td>${p.index + 1}</td><td>${p.recordCount ?? '—'}</td><td>${p.created}</td><td>${p.updated}</td><td>${p.unchanged}</td><td>${p.deleted}</td>
        <td class=${p.errors?.length ? 'bad' : ''}>${p.errors?.length ?? 0}</td>
        <td>${Object.entries(p.nested ?? {}).map(([kind, c]) => html`<div><code>${kind}</code>: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.deleted} deleted</div>`)}</td>
      </tr>`)}</tbody></table></div>
    ${errors.length > 0 && html`<h3>Record errors</h3><${Paged} items=${errors} size=${50} label="Record errors" render=${(items) => html`<table class="list">
      <caption class="visually-hidden">Record errors</caption>
      <thead><tr><th scope="col">Page</th><th scope="col">externalId</th><th scope="col">Field</th><th scope="col">Message</th></tr></thead>
      <tbody>${items.map((error) => html`<tr><td>${error.page + 1}</td><td><code>${error.externalId}</code></td><td>${error.field ? html`<code>${error.field}</code>` : '—'}</td><td>${error.message}</td></tr>`)}</tbody></table>`} />`}
  </section>`;
}

function Logs({ logs, startedAt }) {
  const [level, setLevel] = useState('');
  if (logs.length === 0) return html`<section aria-labelledby="logs-title"><h2 id="logs-title">Logs</h2><p class="muted">No logs.</p></section>`;
  const start = new Date(startedAt).getTime();
  const shown = level ? logs.filter((entry) => LEVELS.indexOf(entry.level) >= LEVELS.indexOf(level)) : logs;
  return html`<section aria-labelledby="logs-title"><h2 id="logs-title">Logs</h2>
    <label>Level <select name="logLevel" value=${level} onChange=${(e) => setLevel(e.target.value)}>
      <option value="">all</option><option value="warn">warn and error</option><option value="error">error</option></select></label>
    <${Paged} items=${shown} size=${100} label="Log pages" render=${(items) => html`<table class="list logs">
      <caption class="visually-hidden">Logs</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Level</th><th scope="col">Message</th><th scope="col">Data</th></tr></thead>
      <tbody>${items.map((entry) => html`<tr>
        <td>+${formatDuration(new Date(entry.timestamp).getTime() - start)}</td>
        <td><span class=${`level level-${entry.level}`}>${entry.level}</span></td>
        <td>${entry.message}</td>
        <td>${entry.data !== undefined && html`<code class="data">${JSON.stringify(entry.data)}</code>`}</td>
      </tr>`)}</tbody></table>`} />
  </section>`;
}

function HttpCalls({ calls }) {
  return html`<section aria-labelledby="http-title"><h2 id="http-title">HTTP calls</h2>
    ${calls.length === 0 ? html`<p class="muted">No HTTP calls.</p>` : html`<${Paged} items=${calls} size=${100} label="HTTP call pages" render=${(items) => html`<div class="scroll" tabindex="0" role="region" aria-label="HTTP calls table"><table class="list http">
      <caption class="visually-hidden">HTTP calls</caption>
      <thead><tr><th scope="col">Method</th><th scope="col">URL</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Bytes</th><th scope="col">Error</th></tr></thead>
      <tbody>${items.map((call) => html`<tr>
        <td>${call.method}</td><td class="url"><code>${call.url}</code></td>
        <td class=${call.status >= 400 || !call.status ? 'bad' : ''}>${call.status ?? '—'}</td>
        <td>${formatDuration(call.durationMs)}</td><td>${formatBytes(call.bytes)}</td><td>${call.error ?? ''}</td>
      </tr>`)}</tbody></table></div>`} />`}
  </section>`;
}

/** A long list a page at a time, so a large execution stays fast. */
function Paged({ items, size, render, label }) {
  const [page, setPage] = useState(1);
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(page, pages);
  const meta = { page: current, limit: size, total: items.length, hasNextPage: current < pages };
  return html`${render(items.slice((current - 1) * size, current * size))}<${Pager} meta=${meta} go=${setPage} label=${label} />`;
}
