// A dry run's answer: what a sync of the hook's records would do, nothing written
// (`POST …/hooks/{hookId}/plan`).
import { html, useEffect, useRef, useState } from '/vendor/ui.js';
import { Status, formatDuration } from './ui.js';

const ROWS_PER_PAGE = 50;
const ACTION_WORDS = { create: 'create', update: 'update', unchanged: 'unchanged', delete: 'delete', error: 'refused' };
const ACTION_MARKS = { create: '+', update: '~', unchanged: '=', delete: '−', error: '!' };

export function DryRunResult({ plan }) {
  const [showUnchanged, setShowUnchanged] = useState(false);
  const [shown, setShown] = useState(ROWS_PER_PAGE);
  // The answer comes after a wait: the reader is taken to it.
  const title = useRef(null);
  useEffect(() => title.current?.focus(), [plan]);
  const execution = plan.execution;
  const totals = plan.totals;
  const rows = plan.records.filter((record) => showUnchanged || record.action !== 'unchanged');
  const requests = execution.httpRequests?.length ?? 0;
  return html`<section class="card plan" aria-labelledby="plan-title">
    <h2 id="plan-title" tabindex="-1" ref=${title}>Dry run <span class="muted">(nothing was written)</span></h2>
    <p>The hook <${Status} status=${execution.status} /> in ${formatDuration(execution.durationMs)}: ${plural(plan.pages.length, 'page')}, ${plural(execution.recordCount, 'record')}, ${plural(requests, 'HTTP request')}.</p>
    ${execution.error && html`<p class="failure" role="alert">${execution.error.message}</p>`}
    <p class="totals" role="status">${counts(totals)}</p>
    ${Object.entries(totals.nested ?? {}).map(([kind, nested]) => html`<p class="muted">${kind}: ${nestedCounts(nested)}</p>`)}
    <div class="field checkbox"><input id="plan-unchanged" type="checkbox" checked=${showUnchanged}
      onChange=${(e) => { setShowUnchanged(e.target.checked); setShown(ROWS_PER_PAGE); }} /><label for="plan-unchanged">Show unchanged records</label></div>
    ${rows.length === 0
      ? html`<p class="muted">No record would change.</p>`
      : html`<div class="scroll" tabindex="0" role="region" aria-label="Planned records"><table class="list plan-records">
        <caption class="visually-hidden">What the sync would do with each record</caption>
        <thead><tr><th scope="col">Action</th><th scope="col">externalId</th><th scope="col">Page</th><th scope="col">What changes</th></tr></thead>
        <tbody>${rows.slice(0, shown).map((record) => html`<${PlannedRow} record=${record} />`)}</tbody>
      </table></div>`}
    ${rows.length > shown && html`<button type="button" onClick=${() => setShown(shown + ROWS_PER_PAGE)}>Show ${Math.min(ROWS_PER_PAGE, rows.length - shown)} more (of ${rows.length})</button>`}
    ${execution.logs?.length > 0 && html`<details><summary>Logs (${execution.logs.length})</summary>
      <ul class="plan-logs">${execution.logs.map((entry) => html`<li><span class="tag">${entry.level}</span> ${entry.message}</li>`)}</ul></details>`}
  </section>`;
}

function PlannedRow({ record }) {
  return html`<tr class=${`plan-${record.action}`}>
    <td><span aria-hidden="true">${ACTION_MARKS[record.action]} </span>${ACTION_WORDS[record.action] ?? record.action}</td>
    <td><code>${record.externalId}</code></td>
    <td>${record.page}</td>
    <td>
      ${record.changes?.length > 0 && html`<ul class="changes">${record.changes.map((change) => html`<li><code>${change.field}</code>: ${
        record.action === 'create' ? shown(change.after) : html`${shown(change.before)} → ${shown(change.after)}`}</li>`)}</ul>`}
      ${Object.entries(record.nested ?? {}).map(([kind, nested]) => html`<div class="muted">${kind}: ${nestedCounts(nested)}</div>`)}
      ${(record.also ?? []).map((also) => html`<div class="muted">and ${also.changeType} ${also.entityType} <code>${also.externalId}</code></div>`)}
      ${(record.errors ?? []).map((error) => html`<div class="error-text">${error.field && html`<code>${error.field}</code>: `}${error.message}</div>`)}
    </td>
  </tr>`;
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function counts(outcome) {
  return `${outcome.created} to create, ${outcome.updated} to update, ${outcome.unchanged} unchanged, ${outcome.deleted} to delete, ${outcome.errors?.length ?? 0} refused`;
}

function nestedCounts(nested) {
  return `${nested.created} to create, ${nested.updated} to update, ${nested.unchanged} unchanged, ${nested.deleted} to delete`;
}

/** A value in a cell: JSON, an array by its length, cut at 80 characters. */
function shown(value) {
  if (value === null || value === undefined) return '(none)';
  if (Array.isArray(value)) return `${value.length} row${value.length === 1 ? '' : 's'}`;
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
