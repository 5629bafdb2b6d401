// Shared pieces of the screens: loading data, errors, form fields, statuses, paging.
import { html, useState, useEffect, useCallback } from '/vendor/ui.js';

/** Loads `load()` now and whenever `deps` change (showing nothing of the previous load
 * meanwhile); `reload()` loads again, keeping what is shown until the answer comes. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const fetchNow = useCallback((fresh) => {
    let live = true;
    if (fresh) setState({ loading: true, data: null, error: null });
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => { live = false; };
  }, deps);
  useEffect(() => fetchNow(true), [fetchNow]);
  return { ...state, reload: () => fetchNow(false) };
}

/** The API's error, as the API words it, naming fields where it does. */
export function ErrorMessage({ error }) {
  if (!error) return null;
  const details = Array.isArray(error.details) ? error.details : [];
  return html`<div class="error" role="alert">
    <strong>${error.message}</strong>
    ${details.length > 0 && html`<ul>${details.map((d) => html`<li>${d.field ? html`<code>${d.field}</code>: ` : ''}${d.message ?? JSON.stringify(d)}</li>`)}</ul>`}
    ${error.errorId && html`<div class="muted">error id ${error.errorId}</div>`}
  </div>`;
}

export function Loading({ what }) {
  return html`<p class="loading" role="status">Loading ${what}…</p>`;
}

let fieldCount = 0;
/** A labelled control; `children` is the control, given the id. */
export function Field({ label, hint, children }) {
  const [id] = useState(() => `field-${++fieldCount}`);
  const hintId = hint ? `${id}-hint` : undefined;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children(id, hintId)}
    ${hint && html`<div class="hint" id=${hintId}>${hint}</div>`}
  </div>`;
}

const STATUS_ICONS = { succeeded: '✓', failed: '✕', timed_out: '⏱', running: '◐', queued: '…', skipped: '↷' };
const STATUS_WORDS = { succeeded: 'succeeded', failed: 'failed', timed_out: 'timed out', running: 'running', queued: 'queued', skipped: 'skipped' };
export function Status({ status }) {
  return html`<span class=${`status status-${status}`}><span aria-hidden="true">${STATUS_ICONS[status] ?? '?'}</span> ${STATUS_WORDS[status] ?? status}</span>`;
}

/** Previous / next for a `{ meta: { page, limit, total, hasNextPage } }` list. At either
 * end the button says it is unavailable but keeps the focus (a disabled one would drop it). */
export function Pager({ meta, go, label }) {
  if (!meta || (meta.page === 1 && !meta.hasNextPage)) return null;
  const pages = Math.max(1, Math.ceil(meta.total / meta.limit));
  const first = meta.page <= 1;
  const last = !meta.hasNextPage;
  return html`<nav class="pager" aria-label=${label ?? 'Pages'}>
    <button type="button" aria-disabled=${first ? 'true' : undefined} onClick=${() => !first && go(meta.page - 1)}>Previous</button>
    <span aria-live="polite">Page ${meta.page} of ${pages} (${meta.total})</span>
    <button type="button" aria-disabled=${last ? 'true' : undefined} onClick=${() => !last && go(meta.page + 1)}>Next</button>
  </nav>`;
}

export function formatTime(iso, timeZone) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Runs `action`, keeping its error for display, a busy flag for the button, and `done`
 * once it succeeded (until the next run), for a "Saved" message. */
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, done: false });
  const run = async (action) => {
    setState({ busy: true, error: null, done: false });
    try {
      const result = await action();
      setState({ busy: false, error: null, done: true });
      return result;
    } catch (error) {
      setState({ busy: false, error, done: false });
      return undefined;
    }
  };
  return { ...state, run, clear: () => setState({ busy: false, error: null, done: false }) };
}

/** Says, to everyone, that `action` succeeded. */
export function Done({ action, message }) {
  return html`<p class="done" role="status">${action.done ? message : ''}</p>`;
}

export function navigate(path) {
  location.hash = path;
}
