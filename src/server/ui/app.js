// The otelrr web UI: a hash router over the pages, the API token dialog and the server's version.
//
//   #/sessions             every session            pages/sessions.js
//   #/sessions/ID          one session              pages/session.js
//   #/capture              start, watch, stop       pages/capture.js
//   #/replay[?session=ID]  the form and dashboards  pages/replay.js
//   #/seed                 generate a session       pages/seed.js

import { h, fill } from './dom.js';
import { setTokenAsker, askForToken, onTokenChange, hasToken, setToken } from './api.js';
import { errorBox, notify, clearNotices } from './ui.js';
import * as sessions from './pages/sessions.js';
import * as session from './pages/session.js';
import * as capture from './pages/capture.js';
import * as replay from './pages/replay.js';
import * as seed from './pages/seed.js';

const main = document.getElementById('main');
let current = null;  // {abort: AbortController}
let first = true;

function parse() {
  const raw = location.hash.replace(/^#/, '') || '/sessions';
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query: new URLSearchParams(query) };
}

function resolve({ parts }) {
  const [top, id, ...rest] = parts;
  if (top === 'sessions' && !id) return { nav: 'sessions', page: sessions, title: 'Sessions' };
  if (top === 'sessions' && id && !rest.length) return { nav: 'sessions', page: session, title: id, id };
  if (top === 'capture' && !id) return { nav: 'capture', page: capture, title: 'Capture' };
  if (top === 'replay' && !id) return { nav: 'replay', page: replay, title: 'Replay' };
  if (top === 'seed' && !id) return { nav: 'seed', page: seed, title: 'Seed' };
  return null;
}

async function route() {
  if (current) current.abort.abort();
  const abort = new AbortController();
  current = { abort };
  const where = parse();
  const r = resolve(where);
  for (const a of document.querySelectorAll('nav a[data-nav]')) {
    if (r && a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = r ? `${r.title} · otelrr` : 'Not found · otelrr';
  main.replaceChildren();
  clearNotices();
  if (!first) main.focus({ preventScroll: true });
  first = false;
  window.scrollTo(0, 0);
  if (!r) {
    fill(main, h('h1', {}, 'Page not found'),
      h('p', {}, 'There is no page at ', h('code', {}, location.hash), '. ', h('a', { href: '#/sessions' }, 'Go to the sessions'), '.'));
    return;
  }
  try {
    await r.page.render(main, { id: r.id, query: where.query, signal: abort.signal });
  } catch (e) {
    if (e.name === 'AbortError' || abort.signal.aborted) return;
    console.warn('otelrr UI:', e);
    main.append(errorBox(e, 'This page could not be shown'));
  }
}

// --- the token ----------------------------------------------------------------------------------------------

const dialog = document.getElementById('token-dialog');
const tokenInput = document.getElementById('token-input');
const tokenReason = document.getElementById('token-reason');
const tokenButton = document.getElementById('token-button');

function askToken(reason) {
  return new Promise((resolve) => {
    tokenReason.textContent = reason || '';
    tokenReason.hidden = !reason;
    tokenInput.value = '';
    const done = (value) => {
      dialog.removeEventListener('close', onClose);
      resolve(value);
    };
    const onClose = () => done(dialog.returnValue === 'ok' ? tokenInput.value.trim() : null);
    dialog.addEventListener('close', onClose);
    dialog.returnValue = '';
    if (!dialog.open) dialog.showModal();
    tokenInput.focus();
  });
}
document.getElementById('token-cancel').addEventListener('click', () => dialog.close('cancel'));
setTokenAsker(askToken);

function showTokenButton(required) {
  tokenButton.hidden = !required && !hasToken();
  tokenButton.textContent = hasToken() ? 'Forget token' : 'Enter token';
}
tokenButton.addEventListener('click', async () => {
  if (hasToken()) {
    setToken('');
    notify('The API token was forgotten in this tab.', 'info');
    return;
  }
  if (await askForToken()) route();
});
onTokenChange(() => showTokenButton(true));

async function serverInfo() {
  const el = document.getElementById('server-info');
  try {
    const res = await fetch('/api/info', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    const info = res.ok ? await res.json() : null;
    if (!info) return;
    el.textContent = [info.version ? `otelrr ${info.version}` : '', info.store ? `store ${info.store}` : '']
      .filter(Boolean).join(' · ');
    showTokenButton(!!info.tokenRequired);
    if (info.tokenRequired && !hasToken()) await askForToken();
  } catch {
    // an older server without /api/info: pages still work, the token is asked when a request needs it
  }
}

window.addEventListener('unhandledrejection', (e) => {
  if (e.reason && e.reason.name === 'AbortError') {
    e.preventDefault();
    return;
  }
  notify(e.reason || 'Something went wrong', 'error');
});

window.addEventListener('hashchange', route);
serverInfo().finally(route);
