// What can be done to a session from the list and from its page: verify, export, delete.

import { h } from './dom.js';
import { request, post, del, enc, hasToken } from './api.js';
import { notify, confirmDialog, busy } from './ui.js';
import { int, bytes } from './format.js';

export async function verifySession(id, button) {
  const run = () => post(`/api/sessions/${enc(id)}/verify`);
  let r;
  try {
    r = button ? await busy(button, run) : await run();
  } catch (e) {
    notify(e, 'error');
    return null;
  }
  const what = `${int(r.files)} files, ${int(r.records)} records, ${bytes(r.storedBytes)}`;
  if (r.ok) notify(`Session ${id} verified: intact (${what}).`, 'ok');
  else {
    const problems = (r.problems || []).map((p) => (typeof p === 'string' ? p : JSON.stringify(p)));
    notify(`Session ${id} has ${problems.length || 'some'} problem${problems.length === 1 ? '' : 's'} (${what}): `
      + `${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ' …' : ''}`, 'error');
  }
  return r;
}

export const exportUrl = (id) => `/api/sessions/${enc(id)}/export`;

// A link that downloads the session as OTLP JSON Lines; with a token, the click fetches it (the token cannot
// go into a plain link) and saves the blob.
export function exportLink(id, label = 'Export', className = 'button') {
  const a = h('a', { href: exportUrl(id), download: `${id}.jsonl`, class: className,
    title: `Download session ${id} as OTLP JSON Lines`, 'aria-label': `Export session ${id} as JSON Lines` }, label);
  a.addEventListener('click', async (e) => {
    if (!hasToken()) return;  // a plain download
    e.preventDefault();
    try {
      const res = await request('GET', exportUrl(id), undefined, { raw: true });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const tmp = h('a', { href: url, download: `${id}.jsonl`, hidden: true });
      document.body.append(tmp);
      tmp.click();
      tmp.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      notify(err, 'error');
    }
  });
  return a;
}

// Asks, then deletes; true when deleted.
export async function deleteSession(id) {
  const ok = await confirmDialog({
    title: `Delete session ${id}?`,
    body: h('p', {}, 'Its files are removed from the store. This cannot be undone.'),
    confirm: 'Delete', danger: true,
  });
  if (!ok) return false;
  try {
    await del(`/api/sessions/${enc(id)}`);
  } catch (e) {
    notify(e, 'error');
    return false;
  }
  notify(`Deleted session ${id}.`, 'ok');
  return true;
}
