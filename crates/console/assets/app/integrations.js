// Integrations: list, create, edit, delete; an integration's secrets (write-only values) and
// its hooks.
import { html, useState, useRef } from '/vendor/ui.js';
import { api, segment } from './api.js';
import { Done, ErrorMessage, Field, Loading, formatTime, useAction, useLoad, navigate } from './ui.js';

export function Integrations({ who }) {
  const list = useLoad(() => api('GET', '/integrations'), []);
  return html`<h1>Integrations</h1>
    <p class="lead">An integration connects ${who.organization.name} to one external system: its secrets, and the hooks that pull from it or push to it.</p>
    ${list.loading && html`<${Loading} what="integrations" />`}
    <${ErrorMessage} error=${list.error} />
    ${list.data && (list.data.data.length === 0
      ? html`<p>No integrations yet: create the first below.</p>`
      : html`<table class="list">
          <caption class="visually-hidden">Integrations</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Source system</th><th scope="col">Description</th><th scope="col">Updated</th></tr></thead>
          <tbody>${list.data.data.map((i) => html`<tr>
            <td><a href=${`#/integrations/${segment(i.id)}`}>${i.name}</a></td>
            <td><code>${i.sourceSystem}</code></td>
            <td>${i.description ?? ''}</td>
            <td>${formatTime(i.updatedAt, who.organization.timezone)}</td>
          </tr>`)}</tbody>
        </table>`)}
    <${IntegrationForm} onSaved=${(saved) => navigate(`/integrations/${segment(saved.id)}`)} />`;
}

function IntegrationForm({ integration, onSaved }) {
  const [name, setName] = useState(integration?.name ?? '');
  const [sourceSystem, setSourceSystem] = useState(integration?.sourceSystem ?? '');
  const [description, setDescription] = useState(integration?.description ?? '');
  const action = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const saved = await action.run(() => integration
      ? api('PATCH', `/integrations/${segment(integration.id)}`, { name, description: description || null })
      : api('POST', '/integrations', { name, sourceSystem, ...(description ? { description } : {}) }));
    if (saved) onSaved(saved.data);
  };
  return html`<form class="card" onSubmit=${submit}>
    <h2>${integration ? 'Edit integration' : 'New integration'}</h2>
    <${Field} label="Name">${(id) => html`<input id=${id} name="name" required value=${name} onInput=${(e) => setName(e.target.value)} />`}<//>
    ${integration
      ? html`<p>Source system: <code>${integration.sourceSystem}</code> (fixed: records synced from it are matched by it)</p>`
      : html`<${Field} label="Source system" hint="A short name of the external system, such as workday; its records are matched by it">
          ${(id, hint) => html`<input id=${id} aria-describedby=${hint} name="sourceSystem" required value=${sourceSystem} onInput=${(e) => setSourceSystem(e.target.value)} />`}<//>`}
    <${Field} label="Description">${(id) => html`<input id=${id} name="description" value=${description} onInput=${(e) => setDescription(e.target.value)} />`}<//>
    <${ErrorMessage} error=${action.error} />
    <button type="submit" disabled=${action.busy}>${integration ? 'Save' : 'Create integration'}</button>
    <${Done} action=${action} message="Saved." />
  </form>`;
}

export function IntegrationScreen({ id, who }) {
  const integration = useLoad(() => api('GET', `/integrations/${segment(id)}`), [id]);
  const remove = useAction();
  if (integration.loading) return html`<${Loading} what="the integration" />`;
  if (integration.error) return html`<h1>Integration</h1><${ErrorMessage} error=${integration.error} />`;
  const current = integration.data.data;
  const destroy = async () => {
    if (!confirm(`Delete the integration ${current.name}, its secrets and its hooks?`)) return;
    const done = await remove.run(() => api('DELETE', `/integrations/${segment(current.id)}`));
    if (done !== undefined) navigate('/integrations');
  };
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href="#/integrations">Integrations</a></nav>
    <h1>${current.name}</h1>
    ${current.description && html`<p class="lead">${current.description}</p>`}
    <div class="columns">
      <section aria-labelledby="hooks-title"><${Hooks} integration=${current} who=${who} /></section>
      <section aria-labelledby="secrets-title"><${Secrets} integration=${current} who=${who} /></section>
    </div>
    <${IntegrationForm} integration=${current} onSaved=${() => integration.reload()} />
    <div class="danger">
      <${ErrorMessage} error=${remove.error} />
      <button type="button" class="danger" disabled=${remove.busy} onClick=${destroy}>Delete integration</button>
    </div>`;
}

function Hooks({ integration, who }) {
  const hooks = useLoad(() => api('GET', `/integrations/${segment(integration.id)}/hooks`), [integration.id]);
  return html`<h2 id="hooks-title">Hooks</h2>
    ${hooks.loading && html`<${Loading} what="hooks" />`}
    <${ErrorMessage} error=${hooks.error} />
    ${hooks.data && (hooks.data.data.length === 0
      ? html`<p>No hooks yet.</p>`
      : html`<ul class="items">${hooks.data.data.map((h) => html`<li>
          <a href=${`#/hooks/${segment(h.id)}`}>${h.name}</a>
          <span class="tag">${h.type}</span> <span class="tag">${h.entityType}</span>
          ${h.type === 'PULL' && h.schedule && html`<span class="muted"> every ${h.schedule}</span>`}
          ${!h.enabled && html`<span class="tag off">disabled</span>`}
        </li>`)}</ul>`)}
    <a class="button" href=${`#/integrations/${segment(integration.id)}/new-hook`}>Add hook</a>`;
}

/** Secret values are write-only: the API lists names and when they were set, never values. */
function Secrets({ integration, who }) {
  const secrets = useLoad(() => api('GET', `/integrations/${segment(integration.id)}/secrets`), [integration.id]);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const action = useAction();
  // What was done, said to everyone; after a deletion the focus moves here (the row it
  // was on is gone).
  const [said, setSaid] = useState('');
  const status = useRef(null);
  const save = async (event) => {
    event.preventDefault();
    const saved = name;
    const done = await action.run(() => api('PUT', `/integrations/${segment(integration.id)}/secrets/${segment(name)}`, { value }));
    if (done !== undefined) {
      setName('');
      setValue('');
      setSaid(`Secret ${saved} saved.`);
      secrets.reload();
    }
  };
  const remove = async (secret) => {
    if (!confirm(`Delete the secret ${secret}?`)) return;
    const done = await action.run(() => api('DELETE', `/integrations/${segment(integration.id)}/secrets/${segment(secret)}`));
    if (done !== undefined) {
      setSaid(`Secret ${secret} deleted.`);
      status.current?.focus();
      secrets.reload();
    }
  };
  return html`<h2 id="secrets-title">Secrets</h2>
    <p class="muted">Hooks read them as <code>ctx.secrets.NAME</code>. Values are encrypted and never shown again.</p>
    ${secrets.loading && html`<${Loading} what="secrets" />`}
    <${ErrorMessage} error=${secrets.error} />
    ${secrets.data && (secrets.data.data.length === 0
      ? html`<p>No secrets yet.</p>`
      : html`<table class="list"><caption class="visually-hidden">Secrets</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Value</th><th scope="col">Set</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${secrets.data.data.map((s) => html`<tr>
            <td><code>${s.name}</code></td><td><span class="muted">set (hidden)</span></td>
            <td>${formatTime(s.updatedAt, who.organization.timezone)}</td>
            <td><button type="button" class="small" aria-label=${`Replace ${s.name}`} onClick=${() => { setName(s.name); document.getElementById('secret-value')?.focus(); }}>Replace</button>
              <button type="button" class="small danger" aria-label=${`Delete ${s.name}`} onClick=${() => remove(s.name)}>Delete</button></td>
          </tr>`)}</tbody></table>`)}
    <form class="inline" onSubmit=${save}>
      <${Field} label="Secret name">${(id) => html`<input id=${id} name="secretName" required value=${name} onInput=${(e) => setName(e.target.value)} />`}<//>
      <div class="field"><label for="secret-value">Value</label>
        <input id="secret-value" name="secretValue" type="password" autocomplete="off" required value=${value} onInput=${(e) => setValue(e.target.value)} /></div>
      <${ErrorMessage} error=${action.error} />
      <button type="submit" disabled=${action.busy}>Save secret</button>
      <p class="done" role="status" tabindex="-1" ref=${status}>${said}</p>
    </form>`;
}
