// #/sessions: every session of the store, sorted, filtered and paged in the browser (GET /api/sessions once;
// a thousand sessions sort and filter in a few milliseconds, and only one page of rows is in the DOM).

import { h, fill, field, select } from '../dom.js';
import { get } from '../api.js';
import { int, compact, bytes, duration, parseTime, timeEl, expiryEl } from '../format.js';
import { errorBox, emptyState, loading, badge, copyWithMessage } from '../ui.js';
import { verifySession, exportLink, deleteSession } from '../actions.js';

// Kept across visits, so that coming back from a session shows the same view.
const state = { type: '', status: '', q: '', sort: 'start', dir: -1, page: 0, size: 50 };

const COLUMNS = [
  { key: 'id', label: 'ID', text: true },
  { key: 'type', label: 'Type', text: true },
  { key: 'status', label: 'Status', text: true },
  { key: 'start', label: 'Start' },
  { key: 'duration', label: 'Duration', num: true },
  { key: 'spans', label: 'Spans', num: true },
  { key: 'points', label: 'Points', num: true },
  { key: 'logs', label: 'Logs', num: true },
  { key: 'size', label: 'Size', num: true },
  { key: 'phases', label: 'Phases', text: true },
  { key: 'flags', label: 'Flags', text: true },
  { key: 'expires', label: 'Expires' },
];

// The fields each column sorts and filters by, computed once per session.
function row(m) {
  const start = parseTime(m.startTime);
  const end = parseTime(m.endTime);
  const c = m.counts || {};
  const phases = (m.phases || []).map((p) => p.name);
  const flags = m.enabledFlags || [];
  const exp = m.expiresAt === 'never' ? Infinity : parseTime(m.expiresAt);
  return {
    m, id: m.sessionId, type: m.sessionType || '', status: m.status || '', start: start ?? 0,
    duration: start !== null ? ((end ?? (m.status === 'active' ? Date.now() : start)) - start) / 1000 : null,
    spans: c.spans ?? 0, points: c.dataPoints ?? 0, logs: c.logRecords ?? 0, size: m.totalSizeBytes ?? 0,
    phases: phases.join(', '), flags: flags.join(', '), expires: exp ?? -Infinity,
    text: [m.sessionId, m.sessionType, m.status, m.description, m.statusReason, ...phases, ...flags,
      m.generator && m.generator.pattern].filter(Boolean).join(' ').toLowerCase(),
  };
}

export async function render(root, { signal }) {
  const count = h('span', { class: 'muted' });
  const refresh = h('button', { type: 'button' }, 'Refresh');
  const typeSel = select('type', [['', 'All types'], ['seed', 'seed'], ['capture', 'capture'], ['training', 'training']], state.type);
  const statusSel = select('status', [['', 'All statuses'], ['active', 'active'], ['completed', 'completed'], ['failed', 'failed']], state.status);
  const search = h('input', { type: 'search', name: 'q', value: state.q, placeholder: 'id, description, phase, flag, pattern…' });
  const sizeSel = select('size', [25, 50, 100, 200].map((n) => [String(n), `${n} per page`]), String(state.size));
  const body = h('div', {}, loading('Loading sessions…'));
  fill(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Sessions'), count),
    h('div', { class: 'filters', role: 'search' },
      field('Type', typeSel), field('Status', statusSel), field('Search', search), field('Rows', sizeSel),
      h('div', { class: 'spacer' }), refresh,
      h('a', { class: 'button', href: '#/seed' }, 'New seed…'), h('a', { class: 'button', href: '#/capture' }, 'New capture…')),
    body);

  let rows = [];
  let loaded = false;

  function shown() {
    const q = state.q.trim().toLowerCase();
    const terms = q ? q.split(/\s+/) : [];
    const out = rows.filter((r) => (!state.type || r.type === state.type) && (!state.status || r.status === state.status)
      && terms.every((t) => r.text.includes(t)));
    const col = COLUMNS.find((c) => c.key === state.sort) || COLUMNS[3];
    const k = col.key;
    out.sort((a, b) => {
      let x = a[k];
      let y = b[k];
      if (x === null) x = -Infinity;
      if (y === null) y = -Infinity;
      const d = col.text ? String(x).localeCompare(String(y)) : x < y ? -1 : x > y ? 1 : 0;
      return (d || a.id.localeCompare(b.id)) * state.dir;
    });
    return out;
  }

  function headerCell(col) {
    const sorted = state.sort === col.key;
    const btn = h('button', { type: 'button', class: 'sort' }, col.label);
    btn.addEventListener('click', () => {
      if (state.sort === col.key) state.dir = -state.dir;
      else {
        state.sort = col.key;
        state.dir = col.text ? 1 : -1;
      }
      state.page = 0;
      draw();
      body.querySelector(`th[data-col="${col.key}"] button`)?.focus();
    });
    return h('th', { scope: 'col', class: `${col.num ? 'num ' : ''}col-${col.key}`, dataset: { col: col.key },
      'aria-sort': sorted ? (state.dir > 0 ? 'ascending' : 'descending') : 'none' }, btn);
  }

  function sessionRow(r) {
    const m = r.m;
    const verify = h('button', { type: 'button', 'aria-label': `Verify session ${r.id}` }, 'Verify');
    verify.addEventListener('click', () => verifySession(r.id, verify));
    const copy = h('button', { type: 'button', 'aria-label': `Copy session id ${r.id}` }, 'Copy id');
    copy.addEventListener('click', () => copyWithMessage(r.id, `session id ${r.id}`));
    const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete session ${r.id}` }, 'Delete');
    remove.addEventListener('click', async () => {
      if (await deleteSession(r.id)) {
        rows = rows.filter((x) => x !== r);
        draw();
      }
    });
    const c = m.counts || {};
    return h('tr', { dataset: { session: r.id } },
      h('td', { class: 'id-cell', title: m.description ? `${r.id}: ${m.description}` : r.id },
        h('a', { href: `#/sessions/${encodeURIComponent(r.id)}` }, r.id)),
      h('td', {}, r.type),
      h('td', {}, h('span', { title: m.statusReason || '' }, badge(r.status))),
      h('td', { class: 'nowrap' }, timeEl(r.start || null, { seconds: false })),
      h('td', { class: 'num' }, duration(r.duration)),
      h('td', { class: 'num', title: int(c.spans) }, compact(c.spans ?? 0)),
      h('td', { class: 'num', title: int(c.dataPoints) }, compact(c.dataPoints ?? 0)),
      h('td', { class: 'num', title: int(c.logRecords) }, compact(c.logRecords ?? 0)),
      h('td', { class: 'num', title: `${int(m.totalSizeBytes)} bytes stored` }, bytes(m.totalSizeBytes)),
      h('td', { class: 'clip col-phases', title: r.phases }, r.phases || '—'),
      h('td', { class: 'clip col-flags', title: r.flags }, r.flags || '—'),
      h('td', { class: 'nowrap' }, expiryEl(m.expiresAt)),
      h('td', {}, h('div', { class: 'row-actions' }, verify, exportLink(r.id, 'Export', 'button'), copy, remove)));
  }

  function draw() {
    if (!loaded) return;
    if (!rows.length) {
      count.textContent = '';
      fill(body, emptyState('No sessions yet',
        h('p', {}, 'Generate one on the ', h('a', { href: '#/seed' }, 'Seed page'), ' or run ', h('code', {}, 'otelrr seed'),
          '; record one on the ', h('a', { href: '#/capture' }, 'Capture page'), ' or with ', h('code', {}, 'otelrr capture'), '.')));
      return;
    }
    const list = shown();
    const pages = Math.max(1, Math.ceil(list.length / state.size));
    state.page = Math.min(state.page, pages - 1);
    const from = state.page * state.size;
    const page = list.slice(from, from + state.size);
    count.textContent = list.length === rows.length ? `${int(rows.length)} sessions`
      : `${int(list.length)} of ${int(rows.length)} sessions match`;
    if (!list.length) {
      const clear = h('button', { type: 'button' }, 'Clear the filters');
      clear.addEventListener('click', () => {
        Object.assign(state, { type: '', status: '', q: '', page: 0 });
        typeSel.value = '';
        statusSel.value = '';
        search.value = '';
        draw();
      });
      fill(body, emptyState('No session matches these filters', h('p', {}, clear)));
      return;
    }
    const prev = h('button', { type: 'button', disabled: state.page === 0 }, '‹ Previous');
    const next = h('button', { type: 'button', disabled: state.page >= pages - 1 }, 'Next ›');
    prev.addEventListener('click', () => { state.page--; draw(); });
    next.addEventListener('click', () => { state.page++; draw(); });
    fill(body,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'sessions-table' },
          h('thead', {}, h('tr', {}, COLUMNS.map(headerCell), h('th', { scope: 'col' }, 'Actions'))),
          h('tbody', {}, page.map(sessionRow)))),
      h('div', { class: 'pager' },
        h('span', { class: 'muted', 'aria-live': 'polite' }, `${int(from + 1)}–${int(from + page.length)} of ${int(list.length)}`),
        prev, h('span', {}, `page ${state.page + 1} of ${pages}`), next));
  }

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.q = search.value;
      state.page = 0;
      draw();
    }, 120);
  });
  typeSel.addEventListener('change', () => { state.type = typeSel.value; state.page = 0; draw(); });
  statusSel.addEventListener('change', () => { state.status = statusSel.value; state.page = 0; draw(); });
  sizeSel.addEventListener('change', () => { state.size = Number(sizeSel.value); state.page = 0; draw(); });

  async function load() {
    try {
      const data = await get('/api/sessions?fields=summary', { signal });  // without each file index
      rows = (data.sessions || []).map(row);
      loaded = true;
      draw();
      // How long the list took from the page's start, for the browser's performance tools (and the tests).
      performance.mark('otelrr:sessions-rendered', { detail: { sessions: rows.length } });
    } catch (e) {
      if (e.name === 'AbortError') return;
      count.textContent = '';
      fill(body, errorBox(e, 'The sessions could not be listed'));
    }
  }
  refresh.addEventListener('click', () => load());
  await load();
}
