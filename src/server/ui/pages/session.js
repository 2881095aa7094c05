// #/sessions/ID: one session: its numbers, the timeline chart (items per second per signal, the spans' error
// rate, the phases as bands), services, phases, annotations, files and metadata.json; replay, verify, export,
// delete.

import { h, fill } from '../dom.js';
import { get, enc } from '../api.js';
import {
  int, compact, bytes, duration, parseTime, nanosToMs, timeEl, expiryEl, percent, zoneName, localTime, prettyJson,
} from '../format.js';
import { errorBox, emptyState, loading, badge, table, copyWithMessage } from '../ui.js';
import { verifySession, exportLink, deleteSession } from '../actions.js';
import { TimeChart } from '../chart.js';
import { chartData, phasesOf } from '../timeline.js';

function dl(items) {
  return h('dl', { class: 'summary' }, items.filter(Boolean).map(([k, v, title]) =>
    h('div', {}, h('dt', {}, k), h('dd', { title }, v))));
}

function section(title, ...content) {
  return h('section', { 'aria-label': title }, h('h2', {}, title), ...content);
}

export async function render(root, { id, signal }) {
  fill(root, h('div', { class: 'crumbs' }, h('a', { href: '#/sessions' }, 'Sessions'), ' / ', id), h('h1', {}, id),
    loading('Loading the session…'));
  let m;
  try {
    m = await get(`/api/sessions/${enc(id)}`, { signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    root.lastChild.replaceWith(errorBox(e, e.status === 404 ? 'No such session' : 'The session could not be read'),
      h('p', {}, h('a', { href: '#/sessions' }, 'Back to the sessions')));
    return;
  }

  const c = m.counts || {};
  const req = c.requests || {};
  const start = parseTime(m.startTime);
  const end = parseTime(m.endTime);
  const first = nanosToMs(m.firstArrivalUnixNano);
  const last = nanosToMs(m.lastArrivalUnixNano);

  const verify = h('button', { type: 'button' }, 'Verify');
  verify.addEventListener('click', () => verifySession(id, verify));
  const copy = h('button', { type: 'button' }, 'Copy id');
  copy.addEventListener('click', () => copyWithMessage(id, `session id ${id}`));
  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete…');
  remove.addEventListener('click', async () => {
    if (await deleteSession(id)) location.hash = '#/sessions';
  });
  const replayLink = h('a', { class: 'button primary-link', href: `#/replay?session=${enc(id)}` }, 'Replay…');

  const chartBox = h('div', { class: 'panel' }, loading('Computing the timeline…'));
  const servicesBox = h('div', {}, loading());
  const annotationsBox = h('div', {}, loading());

  const g = m.generator;
  fill(root,
    h('div', { class: 'crumbs' }, h('a', { href: '#/sessions' }, 'Sessions'), ' / ', id),
    h('div', { class: 'page-head' }, h('h1', {}, id), badge(m.sessionType || 'session', 'type'), badge(m.status)),
    m.description ? h('p', {}, m.description) : null,
    m.statusReason ? h('p', { class: m.status === 'failed' ? 'error-text' : 'muted' }, `Status reason: ${m.statusReason}`) : null,
    m.status === 'active' ? h('div', { class: 'info-box' }, 'This session is being captured: its live counters are on the ',
      h('a', { href: '#/capture' }, 'Capture page'), '.') : null,
    h('div', { class: 'toolbar' }, replayLink, verify, exportLink(id, 'Export JSON Lines'), copy, remove),
    dl([
      ['Start', timeEl(start)],
      ['End', timeEl(end)],
      ['Duration', duration(start !== null && end !== null ? (end - start) / 1000 : null)],
      ['Arrivals', first !== null ? h('span', {}, timeEl(first, { millis: true }), ' → ', timeEl(last, { date: false, millis: true })) : '—'],
      ['Traces', int(c.traces)],
      ['Spans', int(c.spans)],
      ['Data points', int(c.dataPoints)],
      ['Log records', int(c.logRecords)],
      ['Requests', `${int((req.traces || 0) + (req.metrics || 0) + (req.logs || 0))}`,
        `traces ${int(req.traces)}, metrics ${int(req.metrics)}, logs ${int(req.logs)}`],
      ['Stored', bytes(m.totalSizeBytes), `${int(m.totalSizeBytes)} bytes`],
      ['Uncompressed', bytes(c.uncompressedBytes), `${int(c.uncompressedBytes)} bytes`],
      ['Expires', expiryEl(m.expiresAt)],
      ['Flags', (m.enabledFlags || []).join(', ') || '—'],
      ['Created by', m.createdBy || '—'],
      g ? ['Generator', `${g.pattern}, ${num(g.tracesPerSecond)} traces/s for ${duration(g.durationSeconds)}, `
        + `error rate ${percent(g.errorRate, 0)}, random seed ${g.seed}`] : null,
      m.diagnosticSessionId ? ['Diagnostic session', m.diagnosticSessionId] : null,
    ]),
    section('Timeline', chartBox),
    h('div', { class: 'two-col' },
      section('Services', servicesBox),
      section('Phases', phasesTable(phasesOf(null, m)))),
    section('Annotations', annotationsBox),
    section('Files', filesTable(m.files || [])),
    h('section', { 'aria-label': 'Metadata' }, h('h2', {}, 'Metadata'),
      h('details', {}, h('summary', {}, 'metadata.json'), h('pre', { class: 'json' }, prettyJson(m)))));

  loadTimeline(id, m, chartBox, servicesBox, signal);
  loadAnnotations(id, annotationsBox, signal);
}

const num = (v) => (v === undefined ? '—' : String(v));

async function loadTimeline(id, m, box, servicesBox, signal) {
  let tl;
  try {
    tl = await get(`/api/sessions/${enc(id)}/timeline`, { signal });
  } catch (e) {
    if (e.name === 'AbortError') return;
    fill(box, errorBox(e, 'The timeline could not be computed'));
    fill(servicesBox, h('p', { class: 'muted' }, 'The services come with the timeline, which is not available.'));
    return;
  }
  const data = chartData(tl, m);
  box.replaceChildren();
  if (!data.xs.length) {
    fill(box, emptyState('Nothing arrived in this session', h('p', {}, 'It holds no requests yet.')));
  } else {
    const chart = new TimeChart(box, { height: 260, label: `Items per second of session ${id}, by arrival time` });
    chart.set(data);
    const spans = (tl.spans || []);
    let peak = 0;
    let at = 0;
    spans.forEach((v, i) => { if (v > peak) { peak = v; at = i; } });
    const b = Math.max(1, tl.bucketSeconds || 1);
    box.append(h('p', { class: 'muted small' },
      `Per second of arrival time, in buckets of ${duration(b)}; times in your zone (${zoneName()}), UTC on hover of the other times. `,
      peak ? `Peak ${compact(peak / b)} spans/s at ${localTime(data.xs[at], { date: false })}. ` : '',
      'Hover the chart, or focus it and use the arrow keys, for the numbers; the legend\'s buttons show and hide series.'));
  }
  const services = (tl.services || []).slice().sort((a, b) => (b.spans - a.spans) || a.name.localeCompare(b.name));
  if (!services.length) {
    fill(servicesBox, h('p', { class: 'muted' }, 'No service.name was seen in this session.'));
    return;
  }
  fill(servicesBox, table([
    { label: 'Service', cell: (s) => s.name },
    { label: 'Spans', class: 'num', cell: (s) => int(s.spans) },
    { label: 'Errors', class: 'num', cell: (s) => (s.errorSpans ? h('span', { class: 'error-text' }, int(s.errorSpans)) : '0') },
    { label: 'Error rate', class: 'num', cell: (s) => (s.spans ? percent(s.errorSpans / s.spans) : '—') },
    { label: 'Data points', class: 'num', cell: (s) => int(s.dataPoints) },
    { label: 'Log records', class: 'num', cell: (s) => int(s.logRecords) },
  ], services));
}

function phasesTable(phases) {
  if (!phases.length) {
    return h('p', { class: 'muted' }, 'No phases. Mark them while capturing (Capture page), or label a stretch with ',
      h('code', {}, 'otelrr annotate ID --key test.phase.NAME --from … --to …'), '.');
  }
  return table([
    { label: 'Phase', cell: (p) => p.name },
    { label: 'From', cell: (p) => timeEl(p.start, { millis: true }) },
    { label: 'To', cell: (p) => (p.end === null ? 'open' : timeEl(p.end, { date: false, millis: true })) },
    { label: 'Duration', class: 'num', cell: (p) => (p.end === null ? '—' : duration((p.end - p.start) / 1000)) },
    { label: 'Flags', cell: (p) => p.flags.join(', ') || '—' },
  ], phases);
}

function filesTable(files) {
  if (!files.length) return h('p', { class: 'muted' }, 'No files yet.');
  const sorted = files.slice().sort((a, b) => String(a.path).localeCompare(String(b.path)));
  return table([
    { label: 'Path', class: 'mono', cell: (f) => h('span', { title: `sha256 ${f.sha256 || '—'}` }, f.path) },
    { label: 'Signal', cell: (f) => f.signal },
    { label: 'Records', class: 'num', cell: (f) => int(f.records) },
    { label: 'Size', class: 'num', cell: (f) => h('span', { title: `${int(f.sizeBytes)} bytes` }, bytes(f.sizeBytes)) },
    { label: 'Uncompressed', class: 'num', cell: (f) => bytes(f.uncompressedBytes) },
    { label: 'First arrival', cell: (f) => timeEl(nanosToMs(f.firstArrivalUnixNano), { millis: true }) },
    { label: 'Last arrival', cell: (f) => timeEl(nanosToMs(f.lastArrivalUnixNano), { date: false, millis: true }) },
  ], sorted, { caption: `${files.length} file${files.length === 1 ? '' : 's'}` });
}

async function loadAnnotations(id, box, signal) {
  let list;
  try {
    list = (await get(`/api/sessions/${enc(id)}/annotations`, { signal })).annotations || [];
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (e.status === 503) {
      fill(box, h('p', { class: 'muted' }, `Annotations are not available on this server (${e.message}).`));
    } else fill(box, errorBox(e, 'The annotations could not be read'));
    return;
  }
  if (!list.length) {
    fill(box, h('p', { class: 'muted' }, 'No annotations. Add some with ', h('code', {}, `otelrr annotate ${id} --key human.note --from +0s`),
      ' or POST /api/sessions/{id}/annotations.'));
    return;
  }
  const value = (a) => {
    const v = a.annotationValue;
    if (v === undefined || v === null || v === '') return '—';
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return h('span', { class: 'mono small', title: text }, text.length > 80 ? `${text.slice(0, 80)}…` : text);
  };
  fill(box, table([
    { label: 'Key', class: 'mono', cell: (a) => a.annotationKey },
    { label: 'From', cell: (a) => timeEl(parseTime(a.timeRangeStart), { millis: true }) },
    { label: 'To', cell: (a) => (a.timeRangeEnd ? timeEl(parseTime(a.timeRangeEnd), { date: false, millis: true }) : '—') },
    { label: 'Scope', cell: (a) => [a.serviceName, a.traceId, a.spanId, a.metricName].filter(Boolean).join(' ') || a.signalType || '—' },
    { label: 'Value', cell: value },
    { label: 'Flags', cell: (a) => (a.flags || []).join(', ') || '—' },
    { label: 'By', cell: (a) => a.createdBy || '—' },
  ], list, { caption: `${list.length} annotation${list.length === 1 ? '' : 's'}` }));
}
