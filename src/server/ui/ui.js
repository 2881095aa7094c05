// Shared pieces of the pages: messages, error boxes, empty states, the confirmation dialog, clipboard,
// status badges, stat tiles, polling.

import { h, fill } from './dom.js';

// --- messages (bottom right) ----------------------------------------------------------------------------

// notify('Deleted demo1') / notify(error, 'error'): a message that stays until dismissed (errors) or a few
// seconds (the rest).
export function notify(message, kind = 'info', { timeout } = {}) {
  const area = document.getElementById('notices');
  const text = message instanceof Error ? errorText(message) : String(message);
  const close = h('button', { type: 'button', class: 'link close', 'aria-label': 'Dismiss message' }, '×');
  const el = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { at: String(Date.now()) } },
    h('span', { class: 'notice-text' }, text),
    message instanceof Error && message.request ? h('small', {}, message.request) : null, close);
  close.addEventListener('click', () => el.remove());
  area.append(el);
  const ms = timeout ?? (kind === 'error' ? 0 : 6000);
  if (ms) setTimeout(() => el.remove(), ms);
  return el;
}

// On a new page: the messages of the page before go, but those just made (the page's reason to change).
export function clearNotices(keepMs = 1500) {
  for (const n of document.querySelectorAll('#notices .notice')) {
    if (Date.now() - Number(n.dataset.at || 0) > keepMs) n.remove();
  }
}

export function errorText(e) {
  if (!e) return 'Unknown error';
  return e.message || String(e);
}

// An error in the page itself: what went wrong, the request, and what to do.
export function errorBox(e, what = '') {
  const hint = e && e.status === 404 && /no such path/.test(e.message || '')
    ? 'This otelrr serve does not have that API route: is it older than this page? Rebuild or upgrade otelrr.'
    : e && e.status === 401 ? 'Enter the API token with the button at the top of the page.'
      : e && e.status === 0 ? 'Check that otelrr serve is running, then reload the page.' : '';
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, what ? `${what}: ` : '', errorText(e)),
    e && e.request ? h('div', { class: 'muted small' }, e.request) : null,
    hint ? h('div', { class: 'small' }, hint) : null);
}

export function emptyState(title, ...body) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), ...body);
}

export const loading = (what = 'Loading…') => h('p', { class: 'loading muted', role: 'status' }, what);

// --- badges, tiles, code ----------------------------------------------------------------------------------

export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${String(kind).replace(/[^a-z0-9-]/gi, '')}` }, text);
}

// A number with its label: <div class="tile"><span class="tile-value">1.2 M</span><span>spans</span></div>
export function tile(label, value, { title, kind, id } = {}) {
  return h('div', { class: `tile${kind ? ` tile-${kind}` : ''}`, dataset: id ? { tile: id } : undefined },
    h('span', { class: 'tile-value', title }, value), h('span', { class: 'tile-label' }, label));
}

export function updateTile(root, id, value, title) {
  const v = root.querySelector(`[data-tile="${id}"] .tile-value`);
  if (!v) return;
  if (value instanceof Node) fill(v, value);
  else v.textContent = value;
  if (title !== undefined) v.title = title;
}

export const code = (text) => h('code', {}, text);

// A table: columns [{label, class, cell: (row) => node|string}], rows.
export function table(columns, rows, { caption, className = '' } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: className },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.class }, c.cell(r))))))));
}

// --- dialogs ----------------------------------------------------------------------------------------------

// confirmDialog({title, body, confirm: 'Delete', danger: true}) -> Promise<boolean>
export function confirmDialog({ title, body, confirm = 'OK', danger = false }) {
  return new Promise((resolve) => {
    const cancelBtn = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
    const okBtn = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, confirm);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'confirm-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, title),
        h('div', { class: 'dialog-body' }, body),
        h('div', { class: 'dialog-actions' }, cancelBtn, okBtn)));
    cancelBtn.addEventListener('click', () => dialog.close('cancel'));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelBtn.focus();  // the safe choice first
  });
}

// --- clipboard --------------------------------------------------------------------------------------------

export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below
  }
  const area = h('textarea', { class: 'offscreen', readonly: true }, text);
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

export async function copyWithMessage(text, what = text) {
  if (await copyText(text)) notify(`Copied ${what}`, 'ok');
  else window.prompt('Copy it from here:', text);
}

// --- polling ----------------------------------------------------------------------------------------------

// Runs fn now and then every `ms` after each run finished, until the page's signal aborts. fn's errors go to
// onError (the loop goes on).
export function poll(signal, ms, fn, onError = () => {}) {
  let timer = null;
  const tick = async () => {
    if (signal.aborted) return;
    try {
      await fn();
    } catch (e) {
      if (e.name !== 'AbortError' && !signal.aborted) onError(e);
    }
    if (!signal.aborted) timer = setTimeout(tick, typeof ms === 'function' ? ms() : ms);
  };
  signal.addEventListener('abort', () => clearTimeout(timer));
  tick();
}

// Disables a button while its action runs.
export async function busy(button, fn) {
  const was = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = was;
    button.removeAttribute('aria-busy');
  }
}
