// The supervisor API (docs/api.md): one fetch wrapper that sends the token,
// parses JSON and turns an error answer's {"error": ...} into an ApiError.
// The token lives in this tab's sessionStorage only.

const TOKEN_KEY = 'hubd.token';

export class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.name = 'ApiError';
    this.status = status;  // HTTP status; 0 when hubd did not answer
    this.path = path;
  }
}

export function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* storage off */ }
}

// '?a=1&b=2' from an object, leaving out empty values; '' when none.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v == null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function authHeaders(token = storedToken()) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// The error text of a failed answer: the API's {"error": ...}, else its
// text, else the status line.
export async function errorOf(res, path) {
  let text = '';
  try { text = await res.text(); } catch { /* body gone */ }
  let message = '';
  try {
    const data = JSON.parse(text);
    if (data && typeof data.error === 'string') message = data.error;
  } catch { /* not JSON */ }
  if (!message) message = text.trim().split('\n')[0] || `${res.status} ${res.statusText}`;
  return new ApiError(res.status, message, path);
}

// GET (or `method`) `path`, JSON `body`; resolves to the parsed answer,
// rejects with ApiError. A 401 also fires 'hub:unauthorized' on window so
// the page can ask for a token again.
export async function api(path, { method = 'GET', body, signal, token } = {}) {
  const headers = { Accept: 'application/json', ...authHeaders(token ?? storedToken()) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `hubd did not answer (${e.message}); is it running and reachable?`, path);
  }
  if (!res.ok) {
    const err = await errorOf(res, path);
    if (res.status === 401 && token === undefined)
      window.dispatchEvent(new CustomEvent('hub:unauthorized', { detail: err }));
    throw err;
  }
  const text = await res.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `hubd's answer to ${path} is not JSON`, path);
  }
}
