// A hook: its settings, its code in the editor, "Run now", and its executions.
import { html, useState, useMemo, useEffect } from '/vendor/ui.js';
import { api, segment, withQuery } from './api.js';
import { CodeEditor } from './editor.js';
import { Done, ErrorMessage, Field, Loading, formatTime, useAction, useLoad, navigate } from './ui.js';
import { ExecutionList } from './executions.js';
import { DryRunResult } from './plan.js';

const ENTITIES = ['employee', 'contractor', 'vacancy', 'team', 'project', 'assignment'];
const EVENTS = ['create', 'update', 'delete'];
const INTERVALS = ['15m', '30m', '1h', '6h', '12h', '24h'];

export function NewHookScreen({ integrationId, who }) {
  const integration = useLoad(() => api('GET', `/integrations/${segment(integrationId)}`), [integrationId]);
  if (integration.loading) return html`<${Loading} what="the integration" />`;
  if (integration.error) return html`<${ErrorMessage} error=${integration.error} />`;
  const current = integration.data.data;
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href="#/integrations">Integrations</a> › <a href=${`#/integrations/${segment(current.id)}`}>${current.name}</a></nav>
    <h1>Add hook</h1>
    <${HookForm} integration=${current} who=${who} onSaved=${(hook) => navigate(`/hooks/${segment(hook.id)}`)} />`;
}

export function HookScreen({ id, route, who }) {
  const hook = useLoad(async () => {
    const answer = await api('GET', `/hooks/${segment(id)}`);
    const integration = await api('GET', `/integrations/${segment(answer.data.integrationId)}`).catch(() => null);
    return { ...answer, integration: integration?.data };
  }, [id]);
  const run = useAction();
  if (hook.loading) return html`<${Loading} what="the hook" />`;
  if (hook.error) return html`<h1>Hook</h1><${ErrorMessage} error=${hook.error} />`;
  const current = hook.data.data;
  const runNow = async () => {
    const started = await run.run(() => api('POST', `/hooks/${segment(current.id)}/run`));
    if (started) navigate(`/executions/${segment(started.data.id)}`);
  };
  const line = Number(route.query.get('line')) || undefined;
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href="#/integrations">Integrations</a> › <a href=${`#/integrations/${segment(current.integrationId)}`}>${hook.data.integration?.name ?? 'Integration'}</a></nav>
    <h1>${current.name} <span class="tag">${current.type}</span> <span class="tag">${current.entityType}</span>${current.language === 'typescript' && html` <span class="tag">TypeScript</span>`}</h1>
    ${current.type === 'PULL' && html`<div class="actions">
      <button type="button" onClick=${runNow} disabled=${run.busy || !current.enabled}>Run now</button>
      ${!current.enabled && html`<span class="muted"> Enable the hook to run it.</span>`}
      <${ErrorMessage} error=${run.error} /></div>`}
    <${HookForm} hook=${current} who=${who} goto=${line} onSaved=${() => hook.reload()} />
    <section aria-labelledby="executions-title">
      <h2 id="executions-title">Executions</h2>
      <${ExecutionList} hook=${current} route=${route} who=${who} />
    </section>`;
}

function Schedule({ hook, who }) {
  if (hook.type !== 'PULL') return null;
  if (!hook.schedule) return html`<p class="muted">No schedule: runs only when started by hand.</p>`;
  return html`<p>Runs every <strong>${hook.schedule}</strong>${['6h', '12h', '24h'].includes(hook.schedule) ? html` from ${String(hook.preferredHour ?? 0).padStart(2, '0')}:00` : ''}${' '}(${who.organization.timezone} time).
    ${hook.nextRunAt && hook.enabled && html` Next run: <time datetime=${hook.nextRunAt}>${formatTime(hook.nextRunAt, who.organization.timezone)}</time>.`}</p>`;
}

function HookForm({ hook, integration, who, goto, onSaved }) {
  const [name, setName] = useState(hook?.name ?? '');
  const [type, setType] = useState(hook?.type ?? 'PULL');
  const [entityType, setEntityType] = useState(hook?.entityType ?? 'employee');
  const [eventTypes, setEventTypes] = useState(hook?.eventTypes?.length ? hook.eventTypes : EVENTS);
  const [schedule, setSchedule] = useState(hook ? hook.schedule ?? '' : '24h');
  const [preferredHour, setPreferredHour] = useState(hook?.preferredHour ?? 2);
  const [enabled, setEnabled] = useState(hook?.enabled ?? true);
  const [language, setLanguage] = useState(hook?.language ?? 'javascript');
  const [code, setCode] = useState(hook?.code ?? '');
  const [touched, setTouched] = useState(Boolean(hook));
  // Until the code is edited, a new hook's code is the guide's example for the chosen type
  // and entity, as the server gives it (the one `flowstate hook init` writes).
  const [starterError, setStarterError] = useState(null);
  useEffect(() => {
    if (touched) return undefined;
    let live = true;
    api('GET', withQuery('/hook-starters', { type, entity: entityType, language })).then(
      (answer) => live && setCode(answer.data.code),
      (error) => live && setStarterError(error),
    );
    return () => { live = false; };
  }, [type, entityType, language, touched]);
  const action = useAction();
  // A dry run of the code in the editor (saved or not): a PULL hook that exists.
  const dry = useAction();
  const [plan, setPlan] = useState(null);
  const dryRun = async () => {
    setPlan(null);
    const answer = await dry.run(() => api('POST', `/hooks/${segment(hook.id)}/plan`, { code }));
    if (answer) setPlan(answer.data);
  };
  // One value per error, so the editor marks (and moves to) it once, not on every keystroke.
  const failed = action.error ?? dry.error;
  const compileError = useMemo(() => (failed?.details?.field === 'code' && failed.details.line
    ? { line: failed.details.line, column: failed.details.column, message: failed.message }
    : null), [failed]);
  const choose = (nextType, nextEntity) => {
    setType(nextType);
    setEntityType(nextEntity);
  };
  const submit = async (event) => {
    event.preventDefault();
    const pull = type === 'PULL';
    const scheduled = pull && schedule;
    const body = { name, code, language, enabled, ...(pull ? {} : { eventTypes }) };
    // A change clears what no longer applies (null); a new hook leaves it out.
    const timing = scheduled
      ? { schedule, preferredHour: Number(preferredHour) }
      : hook ? { schedule: null, preferredHour: null } : {};
    const saved = await action.run(() => hook
      ? api('PATCH', `/hooks/${segment(hook.id)}`, { ...body, ...timing })
      : api('POST', `/integrations/${segment(integration.id)}/hooks`, { ...body, ...timing, type, entityType }));
    if (saved) onSaved(saved.data);
  };
  return html`<form class="card hook-form" onSubmit=${submit}>
    <div class="row">
      <${Field} label="Name">${(id) => html`<input id=${id} name="name" required value=${name} onInput=${(e) => setName(e.target.value)} />`}<//>
      ${hook ? null : html`
        <${Field} label="Type">${(id) => html`<select id=${id} name="type" value=${type} onChange=${(e) => choose(e.target.value, entityType)}>
          <option value="PULL">PULL: fetch records on a schedule</option><option value="PUSH">PUSH: send changes out</option></select>`}<//>
        <${Field} label="Entity">${(id) => html`<select id=${id} name="entityType" value=${entityType} onChange=${(e) => choose(type, e.target.value)}>
          ${ENTITIES.map((entity) => html`<option value=${entity}>${entity}</option>`)}</select>`}<//>`}
      <${Field} label="Language">${(id) => html`<select id=${id} name="language" value=${language} onChange=${(e) => setLanguage(e.target.value)}>
        <option value="javascript">JavaScript</option><option value="typescript">TypeScript</option></select>`}<//>
      <div class="field checkbox"><input id="hook-enabled" type="checkbox" checked=${enabled} onChange=${(e) => setEnabled(e.target.checked)} /><label for="hook-enabled">Enabled</label></div>
    </div>
    ${type === 'PULL'
      ? html`<div class="row">
          <${Field} label="Schedule">${(id) => html`<select id=${id} name="schedule" value=${schedule} onChange=${(e) => setSchedule(e.target.value)}>
            <option value="">None (run by hand)</option>${INTERVALS.map((i) => html`<option value=${i}>every ${i}</option>`)}</select>`}<//>
          <${Field} label=${`Preferred hour (${who.organization.timezone})`} hint="For intervals over an hour: the hour of day of the first run">
            ${(id, hint) => html`<input id=${id} aria-describedby=${hint} name="preferredHour" type="number" min="0" max="23" disabled=${!schedule} value=${preferredHour} onInput=${(e) => setPreferredHour(e.target.value)} />`}<//>
        </div>
        ${hook && html`<${Schedule} hook=${hook} who=${who} />`}`
      : html`<fieldset><legend>Run on</legend>${EVENTS.map((e) => html`<label class="checkbox"><input type="checkbox" name="eventTypes" value=${e}
          checked=${eventTypes.includes(e)} onChange=${(event) => setEventTypes(event.target.checked ? [...eventTypes, e] : eventTypes.filter((x) => x !== e))} /> ${e}</label>`)}
          <div class="hint">None ticked: every change.</div></fieldset>`}
    <div class="code-label" aria-hidden="true">Code</div>
    <${CodeEditor} key=${language} id="hook-code" label="Hook code" value=${code} mark=${compileError} goto=${goto}
      typescript=${language === 'typescript'}
      onChange=${(next) => { setTouched(true); setCode(next); }} />
    <${ErrorMessage} error=${starterError} />
    <${ErrorMessage} error=${failed} />
    ${compileError && html`<p class="error-line" role="status">Line ${compileError.line}, column ${compileError.column}</p>`}
    <div class="actions">
      <button type="submit" disabled=${action.busy}>${hook ? 'Save hook' : 'Create hook'}</button>
      ${hook?.type === 'PULL' && html` <button type="button" class="secondary" onClick=${dryRun} disabled=${dry.busy}
        title="Run the code in the editor and show what a sync would change, writing nothing">Dry run</button>`}
      ${dry.busy && html` <span class="muted" role="status">Running the hook…</span>`}
    </div>
    <${Done} action=${action} message="Saved." />
    ${plan && html`<${DryRunResult} plan=${plan} />`}
  </form>`;
}
