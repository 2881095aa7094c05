// The control API over fetch: JSON in and out; an {"error": "..."} answer (or any non-2xx) becomes an ApiError
// whose message is what the server said. When the API answers 401 the UI asks for the token once (one
// prompt however many requests are waiting), keeps it in sessionStorage and sends it as
// "Authorization: Bearer <token>".

const TOKEN_KEY = 'otelrr.apiToken';

export class ApiError extends Error {
  constructor(message, { status = 0, method = 'GET', path = '' } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.method = method;
    this.path = path;
  }

  // "GET /api/x answered 404 Not Found"
  get request() {
    const what = `${this.method} ${this.path}`;
    return this.status ? `${what} answered ${this.status} ${statusText(this.status)}` : `${what} failed`;
  }
}

const STATUS_TEXT = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
export const statusText = (code) => STATUS_TEXT[code] || '';

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives as long as the page
  }
  memoryToken = value || '';
  for (const fn of tokenListeners) fn(!!value);
}

let memoryToken = '';
const currentToken = () => token() || memoryToken;
const tokenListeners = [];
export const onTokenChange = (fn) => tokenListeners.push(fn);

// The app installs the function that asks the person for a token: (reason) => Promise<string | null>.
let asker = null;
let pendingAsk = null;
let declined = false;
export function setTokenAsker(fn) {
  asker = fn;
}

// Asks now (the "Enter token" button), even after the person cancelled before.
export async function askForToken(reason = '') {
  declined = false;
  return ask(reason);
}

function ask(reason) {
  if (!asker || declined) return Promise.resolve(null);
  if (!pendingAsk) {
    pendingAsk = Promise.resolve(asker(reason)).then((value) => {
      pendingAsk = null;
      if (value) setToken(value);
      else declined = true;  // do not ask again on every poll; the header's button asks again
      return value || null;
    });
  }
  return pendingAsk;
}

// Integers beyond 2^53 (random seeds, unix nanoseconds) keep every digit: they become String objects of their
// digits (where the browser gives JSON.parse's reviver the source text), which format.js reads and prints as
// numbers.
const BIG_NUMBER = /[:[,]\s*-?\d{16,}/;
function exact(key, value, context) {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
    return new String(context.source);  // eslint-disable-line no-new-wrappers
  }
  return value;
}

function errorMessage(status, text) {
  if (text) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body.error === 'string' && body.error) return body.error;
    } catch {
      // not JSON: the text itself, shortened
    }
    const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    if (plain) return plain.slice(0, 300);
  }
  return `HTTP ${status} ${statusText(status)}`.trim();
}

// request('GET', '/api/sessions') -> the parsed JSON (null for 204). raw: return the Response (for downloads).
export async function request(method, path, body, { signal, raw = false } = {}) {
  for (let attempt = 0; ; attempt++) {
    const sent = currentToken();
    const headers = { Accept: raw ? '*/*' : 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (sent) headers.Authorization = `Bearer ${sent}`;
    let res;
    try {
      res = await fetch(path, {
        method, headers, signal, cache: 'no-store',
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(`Cannot reach the otelrr API (${e.message}): is otelrr serve still running?`,
        { method, path });
    }
    if (res.status === 401 && attempt < 5) {
      if (currentToken() !== sent) continue;  // someone entered a new token meanwhile
      const given = await ask(sent ? 'The token was refused: enter the right one.' : '');
      if (given) continue;
      throw new ApiError('This server requires an API token (otelrr serve --api-token): use "Enter token" at the top.',
        { status: 401, method, path });
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new ApiError(errorMessage(res.status, text), { status: res.status, method, path });
    }
    if (raw) return res;
    if (res.status === 204) return null;
    const text = await res.text();
    if (!text) return null;
    try {
      // The reviver costs ~7x the parse: only when a number literal has the 16+ digits of one beyond 2^53.
      return BIG_NUMBER.test(text) ? JSON.parse(text, exact) : JSON.parse(text);
    } catch {
      throw new ApiError(`The answer to ${method} ${path} is not JSON: ${text.slice(0, 120)}`,
        { status: res.status, method, path });
    }
  }
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

export const enc = encodeURIComponent;

// Whether the page must send a token (fetch+blob downloads instead of plain links).
export const hasToken = () => !!currentToken();
