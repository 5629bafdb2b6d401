// The one way the console talks to the server: the public REST API, with the key the user
// signed in with. The key lives in sessionStorage (this tab only; never in a URL, never in
// localStorage) and is forgotten on sign-out.

const KEY = 'flowstate.key';
const SESSION = 'flowstate.session';

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = error.code ?? 'unknown';
    this.details = error.details;
    this.errorId = error.errorId;
  }
}

export function session() {
  const raw = sessionStorage.getItem(SESSION);
  return raw && sessionStorage.getItem(KEY) ? JSON.parse(raw) : null;
}

async function call(key, method, path, body) {
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

/** Checks the key with the server and keeps it for this tab; returns the session. */
export async function signIn(key) {
  const answer = await call(key.trim(), 'GET', '/api/v1/key');
  sessionStorage.setItem(KEY, key.trim());
  sessionStorage.setItem(SESSION, JSON.stringify(answer.data));
  return answer.data;
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(SESSION);
}

/** `path` is relative to the organisation: `/integrations`. */
export function api(method, path, body) {
  const current = session();
  if (!current) return Promise.reject(new ApiError(401, { error: { message: 'signed out' } }));
  const signedOut = (error) => {
    if (error.status === 401) {
      signOut();
      window.dispatchEvent(new Event('flowstate:signed-out'));
    }
    throw error;
  };
  return call(sessionStorage.getItem(KEY), method, `/api/v1/org/${current.organization.id}${path}`, body).catch(signedOut);
}

/** `/path?name=value`, leaving out empty values. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export const segment = encodeURIComponent;
