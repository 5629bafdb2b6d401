// The console: sign-in, then the screens, routed by the URL's hash (`#/integrations/…`), so
// every screen and its filters have an address and the server serves one page.
import { html, render, useState, useEffect, useRef, useErrorBoundary } from '/vendor/ui.js';
import { session, signIn, signOut } from './api.js';
import { ErrorMessage, useAction, Field } from './ui.js';
import { Integrations, IntegrationScreen } from './integrations.js';
import { HookScreen, NewHookScreen } from './hooks.js';
import { ExecutionScreen } from './executions.js';
import { PeopleScreen, PositionScreen, PEOPLE_TABS, forgetFillers } from './people.js';
import { ForecastScreen } from './forecast.js';

/** The current route: `#/hooks/abc?status=failed` → `{ parts: ['hooks', 'abc'], query }`. */
function currentRoute() {
  const hash = location.hash.replace(/^#/, '') || '/integrations';
  const [path, search = ''] = hash.split('?');
  const decode = (part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  return { parts: path.split('/').filter(Boolean).map(decode), query: new URLSearchParams(search) };
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function SignIn({ onSignedIn }) {
  const [key, setKey] = useState('');
  const action = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const signed = await action.run(() => signIn(key));
    if (signed) onSignedIn(signed);
  };
  return html`<main id="main" class="sign-in" tabindex="-1">
    <h1>Flowstate Hooks</h1>
    <form onSubmit=${submit} aria-labelledby="sign-in-title">
      <h2 id="sign-in-title">Sign in</h2>
      <${Field} label="API key" hint="private_… — kept for this tab only and forgotten when you sign out">
        ${(id, hint) => html`<input id=${id} aria-describedby=${hint} name="key" type="password" autocomplete="off"
          required value=${key} onInput=${(e) => setKey(e.target.value)} />`}
      <//>
      <${ErrorMessage} error=${action.error} />
      <button type="submit" disabled=${action.busy}>Sign in</button>
    </form>
  </main>`;
}

const SECTIONS = [
  { path: 'integrations', label: 'Integrations', also: ['hooks', 'executions'] },
  { path: 'people', label: 'People', also: ['positions'] },
  { path: 'forecast', label: 'Forecast', also: [] },
];

/** The screen a route names, with its title; each keyed by what it shows, so moving from
 * one hook to another starts afresh instead of keeping the first one's form. */
function screenOf(route, who) {
  const [first, second, third] = route.parts;
  if (first === 'integrations' && second && third === 'new-hook') return ['Add hook', html`<${NewHookScreen} key=${second} integrationId=${second} who=${who} />`];
  if (first === 'integrations' && second && !third) return ['Integration', html`<${IntegrationScreen} key=${second} id=${second} who=${who} />`];
  if (first === 'hooks' && second) return ['Hook', html`<${HookScreen} key=${second} id=${second} route=${route} who=${who} />`];
  if (first === 'executions' && second) return ['Execution', html`<${ExecutionScreen} key=${second} id=${second} who=${who} />`];
  if (first === 'people' && (!second || PEOPLE_TABS.includes(second))) return ['People', html`<${PeopleScreen} route=${route} who=${who} />`];
  if (first === 'positions' && second) return ['Position', html`<${PositionScreen} key=${second} id=${second} who=${who} />`];
  if (first === 'forecast') return ['Forecast', html`<${ForecastScreen} route=${route} who=${who} />`];
  if (first === 'integrations' || first === undefined) return ['Integrations', html`<${Integrations} who=${who} />`];
  return ['Not found', html`<h1>Not found</h1><p>There is no screen at <code>${location.hash}</code>. <a href="#/integrations">Integrations</a></p>`];
}

/** A screen that throws says so (and the rest of the console keeps working). */
function Guarded({ children, place }) {
  const [error, reset] = useErrorBoundary();
  useEffect(() => { if (error) reset(); }, [place]);
  if (error) return html`<h1>Something went wrong</h1><div class="error" role="alert">This screen failed: ${String(error.message ?? error)}</div><p><a href="#/integrations">Integrations</a></p>`;
  return children;
}

function App() {
  const [who, setWho] = useState(session);
  const route = useRoute();
  useEffect(() => {
    const out = () => {
      forgetFillers();
      setWho(null);
    };
    window.addEventListener('flowstate:signed-out', out);
    return () => window.removeEventListener('flowstate:signed-out', out);
  }, []);
  // A new screen: move focus to it, so keyboard and screen-reader users start there (not on
  // the first load, which starts at the top of the page, its skip link first).
  const firstScreen = useRef(true);
  const place = who ? route.parts.join('/') : 'sign-in';
  useEffect(() => {
    if (firstScreen.current) {
      firstScreen.current = false;
      return;
    }
    window.scrollTo(0, 0);
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [place]);
  const [title, screen] = who ? screenOf(route, who) : ['Sign in', null];
  useEffect(() => { document.title = `${title} · Flowstate Hooks`; }, [title]);
  if (!who) return html`<${SignIn} onSignedIn=${setWho} />`;
  const out = () => {
    signOut();
    forgetFillers();
    setWho(null);
  };
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
  <header class="top">
    <span class="brand">Flowstate Hooks</span>
    <nav aria-label="Sections">
      ${SECTIONS.map((s) => html`<a href=${`#/${s.path}`} aria-current=${route.parts[0] === s.path || s.also.includes(route.parts[0]) ? 'page' : undefined}>${s.label}</a>`)}
    </nav>
    <span class="who" title=${`key ${who.name}`}>${who.organization.name}</span>
    <button type="button" class="link" onClick=${out}>Sign out</button>
  </header>
  <main id="main" tabindex="-1"><${Guarded} place=${place}>${screen}<//></main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
