// People and positions: employees, contractors, vacancies ("Show filled"), teams as a tree;
// search and sort as the API allows; a position's filler and the Fill form.
import { html, useState, useEffect, useRef } from '/vendor/ui.js';
import { api, segment, withQuery } from './api.js';
import { ErrorMessage, Field, Loading, Pager, useAction, useLoad, navigate } from './ui.js';

const TABS = [
  { path: 'employees', label: 'Employees' },
  { path: 'contractors', label: 'Contractors' },
  { path: 'positions', label: 'Positions' },
  { path: 'teams', label: 'Teams' },
];
const PAGE_SIZE = 25;
export const PEOPLE_TABS = TABS.map((tab) => tab.path);

const money = (amount, currency) =>
  amount == null ? '—' : `${Number(amount).toLocaleString('en-GB', { maximumFractionDigits: 2 })} ${currency ?? ''}`.trim();
const teams = (allocations) => (allocations ?? [])
  .filter((a) => !a.endDate || a.endDate >= new Date().toISOString().slice(0, 10))
  .map((a) => `${a.teamName ?? a.teamId}${a.fte !== 1 ? ` (${a.fte})` : ''}`).join(', ') || '—';

export function PeopleScreen({ route }) {
  const tab = route.parts[1] ?? 'employees';
  // Who fills which position is read again each time the screen opens.
  useEffect(forgetFillers, []);
  return html`<h1>People and positions</h1>
    <nav class="tabs" aria-label="People">
      ${TABS.map((t) => html`<a href=${`#/people/${t.path}`} aria-current=${tab === t.path ? 'page' : undefined}>${t.label}</a>`)}
    </nav>
    ${tab === 'teams' ? html`<${TeamTree} />` : html`<${Listing} kind=${tab} route=${route} />`}`;
}

const KINDS = {
  employees: {
    path: '/employees',
    sorts: [['lastName', 'Last name'], ['firstName', 'First name'], ['startDate', 'Start date'], ['externalId', 'External id']],
    columns: ['Name', 'Email', 'Role', 'Teams', 'Start', 'End'],
    row: (e) => [html`<strong>${e.firstName} ${e.lastName}</strong>`, e.email, e.jobRole?.title ?? e.jobRole ?? '—', teams(e.teamAllocations), e.startDate ?? '—', e.endDate ?? '—'],
  },
  contractors: {
    path: '/contractors',
    sorts: [['name', 'Name'], ['startDate', 'Start date'], ['rate', 'Rate'], ['externalId', 'External id']],
    columns: ['Name', 'Type', 'Rate', 'Teams', 'Start', 'End'],
    row: (c) => [html`<strong>${c.name}</strong>`, c.contractorType ?? '—', c.rate == null ? '—' : `${money(c.rate, c.currencyCode)} ${c.rateType ?? ''}`, teams(c.teamAllocations), c.startDate ?? '—', c.endDate ?? '—'],
  },
  positions: {
    path: '/vacancies',
    sorts: [['role', 'Role'], ['targetStartDate', 'Target start'], ['status', 'Status'], ['externalId', 'External id']],
    columns: ['Role', 'Status', 'Teams', 'Target start', 'Salary range', 'Filled by'],
    row: (v) => [html`<a href=${`#/positions/${segment(v.id)}`}><strong>${v.role ?? `Position ${v.externalId ?? v.id}`}</strong></a> <span class="muted">${v.externalId ?? ''}</span>`, v.status, teams(v.teamAllocations), v.targetStartDate ?? '—',
      v.salaryMin == null && v.salaryMax == null ? '—' : `${money(v.salaryMin, '')} – ${money(v.salaryMax, v.currencyCode)}`,
      v.filledBy ? html`<${Filler} filledBy=${v.filledBy} />` : html`<span class="muted">open</span>`],
  },
};

function Listing({ kind, route }) {
  const spec = KINDS[kind];
  const search = route.query.get('search') ?? '';
  const sortBy = route.query.get('sortBy') ?? spec.sorts[0][0];
  const sortDir = route.query.get('sortDir') ?? 'asc';
  const page = Number(route.query.get('page')) || 1;
  const showFilled = route.query.get('showFilled') === 'true';
  const [typed, setTyped] = useState(search);
  useEffect(() => setTyped(search), [search]);
  const list = useLoad(() => api('GET', withQuery(spec.path, {
    search, sortBy, sortDir, page, limit: PAGE_SIZE, ...(kind === 'positions' ? { excludeFilled: String(!showFilled) } : {}),
  })), [kind, search, sortBy, sortDir, page, showFilled]);
  const go = (change) => navigate(withQuery(`/people/${kind}`, { search, sortBy, sortDir, page, showFilled: showFilled ? 'true' : '', ...change }));
  return html`<form class="filters" role="search" onSubmit=${(e) => { e.preventDefault(); go({ search: typed, page: 1 }); }}>
      <label>Search <input type="search" name="search" value=${typed} onInput=${(e) => setTyped(e.target.value)} /></label>
      <button type="submit">Search</button>
      <label>Sort by <select name="sortBy" value=${sortBy} onChange=${(e) => go({ sortBy: e.target.value, page: 1 })}>
        ${spec.sorts.map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select></label>
      <label>Order <select name="sortDir" value=${sortDir} onChange=${(e) => go({ sortDir: e.target.value, page: 1 })}>
        <option value="asc">ascending</option><option value="desc">descending</option></select></label>
      ${kind === 'positions' && html`<label class="checkbox"><input type="checkbox" name="showFilled" checked=${showFilled}
        onChange=${(e) => go({ showFilled: e.target.checked ? 'true' : '', page: 1 })} /> Show filled</label>`}
    </form>
    ${list.loading && html`<${Loading} what=${kind} />`}
    <${ErrorMessage} error=${list.error} />
    ${list.data && (list.data.data.length === 0 ? html`<p>None${search ? ` match “${search}”` : ''}.</p>` : html`
      <div class="scroll" tabindex="0" role="region" aria-label=${`${kind} table`}><table class="list people">
        <caption class="visually-hidden">${kind}</caption>
        <thead><tr>${spec.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
        <tbody>${list.data.data.map((item) => html`<tr>${spec.row(item).map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody>
      </table></div>`)}
    <${Pager} meta=${list.data?.meta} go=${(p) => go({ page: p })} label=${`${kind} pages`} />`;
}

const fillers = new Map();

/** Forgets who fills which position (after a fill, on sign-out, when People opens). */
export function forgetFillers() {
  fillers.clear();
}

/** Who fills a position and until when (the filler's endDate), read from the filler. */
function fillerOf(filledBy) {
  const key = `${filledBy.type}/${filledBy.id}`;
  if (!fillers.has(key)) {
    const path = `/${filledBy.type === 'contractor' ? 'contractors' : 'employees'}/${segment(filledBy.id)}`;
    fillers.set(key, api('GET', path).then((answer) => answer.data).catch((error) => { fillers.delete(key); throw error; }));
  }
  return fillers.get(key);
}

function Filler({ filledBy }) {
  const filler = useLoad(() => fillerOf(filledBy), [filledBy.type, filledBy.id]);
  if (filler.loading) return html`<span class="muted">${filledBy.externalId ?? filledBy.id}</span>`;
  if (filler.error) return html`<span class="muted">${filledBy.type} ${filledBy.externalId ?? filledBy.id}</span>`;
  const person = filler.data;
  const name = filledBy.type === 'contractor' ? person.name : `${person.firstName} ${person.lastName}`;
  return html`<span>${name} <span class="muted">(${filledBy.type})</span>${person.endDate ? html`, until <time datetime=${person.endDate}>${person.endDate}</time>` : ''}</span>`;
}

export function PositionScreen({ id, who }) {
  const position = useLoad(() => api('GET', `/vacancies/${segment(id)}`), [id]);
  // After a fill the form goes away: the focus moves to what says it is filled.
  const justFilled = useRef(false);
  const filledNote = useRef(null);
  useEffect(() => {
    if (justFilled.current && filledNote.current) {
      justFilled.current = false;
      filledNote.current.focus();
    }
  });
  if (position.loading) return html`<${Loading} what="the position" />`;
  if (position.error) return html`<h1>Position</h1><${ErrorMessage} error=${position.error} />`;
  const v = position.data.data;
  return html`<nav aria-label="Breadcrumb" class="crumbs"><a href="#/people/positions">Positions</a></nav>
    <h1>${v.role} <span class="tag">${v.status}</span></h1>
    <dl class="facts">
      <dt>External id</dt><dd>${v.externalId ?? '—'}</dd>
      <dt>Teams</dt><dd>${teams(v.teamAllocations)}</dd>
      <dt>FTE</dt><dd>${v.fte}</dd>
      <dt>Target start</dt><dd>${v.targetStartDate ?? '—'}</dd>
      <dt>Salary range</dt><dd>${v.salaryMin == null && v.salaryMax == null ? 'not set' : `${money(v.salaryMin, '')} – ${money(v.salaryMax, v.currencyCode)}`}</dd>
      <dt>Filled by</dt><dd>${v.filledBy ? html`<${Filler} filledBy=${v.filledBy} />` : 'nobody (open)'}${v.filledBy && !v.isFilled ? ' — has left; the position is open again' : ''}</dd>
    </dl>
    ${v.isFilled
      ? html`<p class="muted" role="status" tabindex="-1" ref=${filledNote}>Filled: its cost is the filler's until the filler leaves.</p>`
      : html`<${FillForm} vacancy=${v} who=${who} onFilled=${() => { justFilled.current = true; position.reload(); }} />`}`;
}

/** `POST /vacancies/{id}/fill`: a new employee or contractor takes the position. */
function FillForm({ vacancy, who, onFilled }) {
  const [fillerType, setFillerType] = useState('employee');
  const [form, setForm] = useState({ firstName: '', lastName: '', email: '', startDate: new Date().toISOString().slice(0, 10), salary: '', name: '', rate: '', rateType: 'daily', currencyCode: vacancy.currencyCode ?? who.organization.currency });
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  const action = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const body = fillerType === 'employee'
      ? { fillerType, firstName: form.firstName, lastName: form.lastName, email: form.email, startDate: form.startDate,
          ...(form.salary ? { salary: { effectiveDate: form.startDate, salary: Number(form.salary), currencyCode: form.currencyCode } } : {}) }
      : { fillerType, name: form.name, email: form.email || null, startDate: form.startDate, rate: Number(form.rate), rateType: form.rateType, currencyCode: form.currencyCode };
    const done = await action.run(() => api('POST', `/vacancies/${segment(vacancy.id)}/fill`, body));
    if (done) {
      forgetFillers();
      onFilled();
    }
  };
  const input = (name, label, type = 'text', required = true) => html`<${Field} label=${label}>${(id) => html`<input id=${id} name=${name} type=${type} required=${required} value=${form[name]} onInput=${set(name)} />`}<//>`;
  return html`<form class="card" onSubmit=${submit} aria-labelledby="fill-title">
    <h2 id="fill-title">Fill this position</h2>
    <fieldset><legend>Filled by a new</legend>
      <label class="checkbox"><input type="radio" name="fillerType" value="employee" checked=${fillerType === 'employee'} onChange=${() => setFillerType('employee')} /> employee</label>
      <label class="checkbox"><input type="radio" name="fillerType" value="contractor" checked=${fillerType === 'contractor'} onChange=${() => setFillerType('contractor')} /> contractor</label>
    </fieldset>
    <div class="row">
      ${fillerType === 'employee'
        ? html`${input('firstName', 'First name')}${input('lastName', 'Last name')}${input('email', 'Email', 'email')}${input('salary', 'Annual salary', 'number', false)}`
        : html`${input('name', 'Name')}${input('email', 'Email', 'email', false)}${input('rate', 'Rate', 'number')}
            <${Field} label="Rate per">${(id) => html`<select id=${id} name="rateType" value=${form.rateType} onChange=${set('rateType')}>
              <option value="hourly">hour</option><option value="daily">day</option><option value="monthly">month</option></select>`}<//>`}
      ${input('currencyCode', 'Currency')}
      ${input('startDate', 'Start date', 'date')}
    </div>
    <${ErrorMessage} error=${action.error} />
    <button type="submit" disabled=${action.busy}>Fill position</button>
  </form>`;
}

/** Every team of the organisation, page after page, by name. */
export async function allTeams() {
  const found = [];
  for (let page = 1; ; page += 1) {
    const answer = await api('GET', withQuery('/teams', { page, limit: 200, sortBy: 'name' }));
    found.push(...answer.data);
    if (!answer.meta.hasNextPage) return found;
  }
}

/** Every team, as the tree its parents make. */
function TeamTree() {
  const all = useLoad(allTeams, []);
  if (all.loading) return html`<${Loading} what="teams" />`;
  if (all.error) return html`<${ErrorMessage} error=${all.error} />`;
  const byParent = new Map();
  const known = new Set(all.data.map((t) => t.externalId));
  for (const team of all.data) {
    const parent = known.has(team.parentTeamExternalId) ? team.parentTeamExternalId : null;
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(team);
  }
  const branch = (parent) => {
    const children = byParent.get(parent) ?? [];
    if (children.length === 0) return null;
    return html`<ul class="tree">${children.map((team) => html`<li><span class="team">${team.name}</span> <span class="muted">${team.externalId ?? ''}</span>${team.externalId ? branch(team.externalId) : null}</li>`)}</ul>`;
  };
  // Teams a cycle would cut off from the top (the API refuses cycles; a sync cannot make
  // one either, but nothing is ever hidden).
  const placed = new Set();
  const visit = (parent) => (byParent.get(parent) ?? []).forEach((team) => {
    if (team.externalId && !placed.has(team.externalId)) {
      placed.add(team.externalId);
      visit(team.externalId);
    }
  });
  visit(null);
  const unplaced = all.data.filter((team) => team.externalId && !placed.has(team.externalId) && !(byParent.get(null) ?? []).includes(team));
  return all.data.length === 0 ? html`<p>No teams yet.</p>` : html`<div aria-label="Teams">${branch(null)}</div>
    ${unplaced.length > 0 && html`<h2>Unplaced</h2><ul>${unplaced.map((team) => html`<li>${team.name} <span class="muted">${team.externalId}</span></li>`)}</ul>`}`;
}
