// #/capture: start a capture (a CaptureConfig), watch it live every second (GET /api/captures/{id} for its
// counts and GET /api/stats for the receivers' counters), mark its phases, stop it.

import { h, fill, field, checkbox, list, select } from '../dom.js';
import { get, post, enc } from '../api.js';
import { int, compact, bytes, duration, parseTime, timeEl, percent, localTime } from '../format.js';
import { errorBox, loading, badge, tile, updateTile, table, poll, notify, busy } from '../ui.js';
import { TimeChart } from '../chart.js';

const LIMITS_KEY = (id) => `otelrr.capture.limits.${id}`;
const HISTORY_SECONDS = 300;

function savedLimits(id) {
  try {
    return JSON.parse(localStorage.getItem(LIMITS_KEY(id)) || 'null');
  } catch {
    return null;
  }
}

function saveLimits(id, limits) {
  try {
    localStorage.setItem(LIMITS_KEY(id), JSON.stringify(limits));
  } catch {
    // no storage: the limits are not shown after a reload
  }
}

const items = (m) => { const c = m.counts || {}; return (c.spans || 0) + (c.dataPoints || 0) + (c.logRecords || 0); };
const requests = (m) => { const r = (m.counts || {}).requests || {}; return (r.traces || 0) + (r.metrics || 0) + (r.logs || 0); };

export async function render(root, { signal }) {
  const body = h('div', {}, loading('Looking for an active capture…'));
  const recent = h('div', {});
  const where = h('span', {}, 'OTLP/HTTP and OTLP/gRPC; ', h('code', {}, 'otelrr serve --http/--grpc'),
    ', by default 127.0.0.1:4318 and 127.0.0.1:4317');
  fill(root, h('h1', {}, 'Capture'),
    h('p', { class: 'muted' }, 'Records what arrives at this server\'s OTLP receivers (', where, ') into a new session.'),
    body, h('section', {}, h('h2', {}, 'Recent captures'), recent));
  // Where this server's receivers listen (GET /api/info); the defaults above when it does not say.
  fetch('/api/info', { headers: { Accept: 'application/json' }, cache: 'no-store', signal })
    .then((res) => (res.ok ? res.json() : null))
    .then((info) => {
      const r = info && info.receivers;
      if (!r || (!r.http && !r.grpc)) return;
      fill(where, 'OTLP/HTTP on ', h('code', {}, `http://${r.http}`), ', OTLP/gRPC on ', h('code', {}, r.grpc));
    })
    .catch(() => {});

  let live = null;  // the live view's AbortController

  async function show(lastFinal) {
    if (live) live.abort();
    let captures = [];
    try {
      captures = (await get('/api/captures', { signal })).captures || [];
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(body, errorBox(e, 'The captures could not be listed'));
      return;
    }
    showRecent(captures);
    const active = captures.find((c) => c.status === 'active');
    if (active) {
      live = new AbortController();
      signal.addEventListener('abort', () => live.abort());
      liveView(body, active, live.signal, (final) => show(final));
    } else {
      fill(body, lastFinal ? finished(lastFinal) : null, startForm((m) => show(), () => show()));
    }
  }

  function showRecent(captures) {
    const sorted = captures.slice().sort((a, b) => (parseTime(b.startTime) || 0) - (parseTime(a.startTime) || 0)).slice(0, 10);
    if (!sorted.length) {
      fill(recent, h('p', { class: 'muted' }, 'No capture sessions yet.'));
      return;
    }
    fill(recent, table([
      { label: 'Session', cell: (m) => h('a', { href: `#/sessions/${enc(m.sessionId)}` }, m.sessionId) },
      { label: 'Status', cell: (m) => h('span', { title: m.statusReason || '' }, badge(m.status)) },
      { label: 'Start', cell: (m) => timeEl(parseTime(m.startTime)) },
      { label: 'Duration', class: 'num', cell: (m) => duration(((parseTime(m.endTime) ?? Date.now()) - parseTime(m.startTime)) / 1000) },
      { label: 'Requests', class: 'num', cell: (m) => int(requests(m)) },
      { label: 'Items', class: 'num', cell: (m) => int(items(m)) },
      { label: 'Size', class: 'num', cell: (m) => bytes(m.totalSizeBytes) },
      { label: 'Reason', cell: (m) => m.statusReason || '' },
    ], sorted, { caption: 'The newest ten; all of them are on the Sessions page.' }));
  }

  await show();
}

function finished(m) {
  const c = m.counts || {};
  return h('div', { class: m.status === 'failed' ? 'error-box' : 'ok-box', role: 'status', dataset: { finished: m.sessionId } },
    h('strong', {}, `Capture ${m.sessionId} ${m.status === 'completed' ? 'finished' : m.status}`,
      m.statusReason ? ` (${m.statusReason})` : '', ': '),
    `${int(requests(m))} requests, ${int(c.spans)} spans, ${int(c.dataPoints)} data points, ${int(c.logRecords)} log records, `,
    `${bytes(m.totalSizeBytes)} stored. `,
    h('a', { href: `#/sessions/${enc(m.sessionId)}` }, 'Open the session'), ' · ',
    h('a', { href: `#/replay?session=${enc(m.sessionId)}` }, 'Replay it'));
}

function startForm(onStarted, onConflict) {
  const err = h('div', {});
  const sessionId = h('input', { name: 'sessionId', placeholder: 'capture-<time>-<random>', autocomplete: 'off' });
  const description = h('input', { name: 'description', placeholder: 'what this capture records' });
  const flags = h('input', { name: 'enabledFlags', placeholder: 'paymentServiceFailure, newCheckout' });
  const maxSize = h('input', { name: 'maxSizeMB', type: 'number', min: '0', step: 'any', placeholder: 'no limit' });
  const maxDuration = h('input', { name: 'maxDurationMinutes', type: 'number', min: '0', step: 'any', placeholder: 'no limit' });
  const retention = h('input', { name: 'retentionDays', type: 'number', min: '1', max: '36500', step: '1', placeholder: 'store policy' });
  const diagnostic = h('input', { name: 'diagnosticSessionId', placeholder: 'optional' });
  const compression = select('compression', [['zstd', 'zstd (default)'], ['gzip', 'gzip'], ['none', 'none']], 'zstd');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start capture');
  const form = h('form', { class: 'panel', 'aria-label': 'Start a capture' },
    h('h2', { style: { marginTop: 0 } }, 'Start a capture'),
    h('div', { class: 'form-grid' },
      field('Session id', sessionId, 'Letters, digits, . _ -; empty: one is made up'),
      field('Description', description),
      field('Feature flags', flags, 'Comma-separated, recorded with the session (enabledFlags)'),
      field('Max size (MB)', maxSize, 'Stops once this many MB (10^6 bytes, uncompressed) were recorded'),
      field('Max duration (minutes)', maxDuration, 'Stops this long after the start'),
      field('Retention (days)', retention, 'The session expires this many days after it starts'),
      h('fieldset', {}, h('legend', {}, 'Signals'),
        h('div', { class: 'inline-checks' }, checkbox('Traces', 'captureTraces', true), checkbox('Metrics', 'captureMetrics', true),
          checkbox('Logs', 'captureLogs', true))),
      h('fieldset', {}, h('legend', {}, 'Writing'),
        field('Compression', compression, 'How the raw files are stored: zstd is smaller and cheaper than gzip'),
        checkbox('fsync every batch', 'fsync', false, 'Slower; survives power loss, not only a crash')),
      field('Diagnostic session', diagnostic, 'The diagnostic session this capture belongs to')),
    err,
    h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.replaceChildren();
    const f = form.elements;
    const body = {
      captureTraces: f.captureTraces.checked, captureMetrics: f.captureMetrics.checked, captureLogs: f.captureLogs.checked,
      compression: compression.value, fsync: f.fsync.checked,
    };
    if (sessionId.value.trim()) body.sessionId = sessionId.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    if (diagnostic.value.trim()) body.diagnosticSessionId = diagnostic.value.trim();
    const fl = list(flags.value);
    if (fl.length) body.enabledFlags = fl;
    if (maxSize.value !== '') body.maxSizeMB = Number(maxSize.value);
    if (maxDuration.value !== '') body.maxDurationMinutes = Number(maxDuration.value);
    if (retention.value !== '') body.retentionDays = Number(retention.value);
    try {
      const m = await busy(submit, () => post('/api/captures', body));
      saveLimits(m.sessionId, { maxSizeMB: body.maxSizeMB ?? null, maxDurationMinutes: body.maxDurationMinutes ?? null });
      notify(`Capture ${m.sessionId} started.`, 'ok');
      onStarted(m);
    } catch (ex) {
      fill(err, errorBox(ex, 'The capture did not start'));
      if (ex.status === 409 && /active|running|captur/i.test(ex.message)) {
        err.append(h('p', {}, h('button', { type: 'button', onclick: onConflict }, 'Show the active capture')));
      }
    }
  });
  return form;
}

function sumStats(stats, key) {
  const r = (stats && stats.receiver) || {};
  return ['traces', 'metrics', 'logs'].reduce((a, s) => a + ((r[s] && r[s][key]) || 0), 0);
}

function liveView(body, first, signal, whenFinished) {
  const id = first.sessionId;
  let done = false;
  const onFinished = (m) => {
    if (done) return;
    done = true;
    whenFinished(m);
  };
  const start = parseTime(first.startTime);
  const tiles = h('div', { class: 'tiles' },
    tile('requests/s', '—', { id: 'reqRate' }), tile('items/s', '—', { id: 'itemRate' }),
    tile('requests', '0', { id: 'requests' }), tile('spans', '0', { id: 'spans' }), tile('data points', '0', { id: 'points' }),
    tile('log records', '0', { id: 'logs' }), tile('traces', '0', { id: 'traces' }),
    tile('recorded (uncompressed)', '0 B', { id: 'bytes' }), tile('stored', '0 B', { id: 'stored' }),
    tile('elapsed', '0 s', { id: 'elapsed' }));
  const drops = h('div', { class: 'tiles' },
    tile('overloaded (503)', '—', { id: 'overloaded' }), tile('invalid (400)', '—', { id: 'invalid' }),
    tile('failed', '—', { id: 'failed' }), tile('not recorded', '—', { id: 'notRecorded' }),
    tile('queued', '—', { id: 'queued' }));
  const statsNote = h('p', { class: 'muted small' });
  const limitsBox = h('div', { class: 'limits' });
  const chartBox = h('div', {});
  const phasesBox = h('div', {});
  const stopBtn = h('button', { type: 'button', class: 'danger-fill' }, 'Stop capture');
  const phaseName = h('input', { name: 'phase', placeholder: 'degraded', required: true, autocomplete: 'off' });
  const phaseFlags = h('input', { name: 'phaseFlags', placeholder: 'paymentServiceFailure' });
  const phaseErr = h('div', {});
  const endPhase = h('button', { type: 'button', disabled: true }, 'End the current phase');
  const startPhase = h('button', { type: 'submit', class: 'primary' }, 'Start phase');
  const phaseForm = h('form', { class: 'toolbar', 'aria-label': 'Mark a phase' },
    h('div', { class: 'field' }, h('label', { for: 'phase-name' }, 'Phase'), Object.assign(phaseName, { id: 'phase-name' })),
    h('div', { class: 'field' }, h('label', { for: 'phase-flags' }, 'Its flags (comma-separated)'),
      Object.assign(phaseFlags, { id: 'phase-flags' })),
    h('div', { class: 'field' }, h('span', { class: 'small' }, '\u00a0'),
      h('div', { class: 'toolbar', style: { margin: 0 } }, startPhase, endPhase)));

  fill(body, h('div', { class: 'panel', dataset: { capture: id } },
    h('div', { class: 'page-head' }, h('h2', { style: { margin: 0 } }, 'Capturing ', h('a', { href: `#/sessions/${enc(id)}` }, id)),
      badge('active'), h('span', { class: 'muted' }, 'since ', timeEl(start)),
      h('span', { class: 'spacer', style: { flex: 1 } }), stopBtn),
    first.description ? h('p', {}, first.description) : null,
    (first.enabledFlags || []).length ? h('p', { class: 'small' }, 'Flags: ', first.enabledFlags.join(', ')) : null,
    tiles, h('h3', {}, 'Receivers'), drops, statsNote, limitsBox,
    h('h3', {}, 'Items per second'), chartBox,
    h('h3', { style: { marginTop: '1rem' } }, 'Phases'), phaseForm, phaseErr, phasesBox));

  const chart = new TimeChart(chartBox, { height: 180, label: `Items per second arriving into capture ${id}` });
  const history = { xs: [], spans: [], points: [], logs: [] };
  let prev = null;
  let prevStats = null;
  let meta = first;
  let statsError = null;
  const limits = () => {
    const saved = savedLimits(id) || {};
    return {
      maxSizeMB: meta.maxSizeMB ?? (meta.limits && meta.limits.maxSizeMB) ?? saved.maxSizeMB ?? null,
      maxDurationMinutes: meta.maxDurationMinutes ?? (meta.limits && meta.limits.maxDurationMinutes) ?? saved.maxDurationMinutes ?? null,
    };
  };

  function drawPhases() {
    const phases = meta.phases || [];
    endPhase.disabled = !phases.some((p) => !p.endTime);
    if (!phases.length) {
      fill(phasesBox, h('p', { class: 'muted' },
        'No phase marked yet. A phase starts now and ends the one before; the one still open ends with the capture.'));
      return;
    }
    fill(phasesBox, table([
      { label: 'Phase', cell: (p) => p.name },
      { label: 'From', cell: (p) => timeEl(parseTime(p.startTime), { millis: true }) },
      { label: 'To', cell: (p) => (p.endTime ? timeEl(parseTime(p.endTime), { date: false, millis: true }) : badge('open', 'running')) },
      { label: 'Flags', cell: (p) => (p.flags || []).join(', ') || '—' },
    ], phases));
  }

  function drawLimits(now) {
    const l = limits();
    const elapsed = (now - start) / 1000;
    const parts = [];
    if (l.maxSizeMB) {
      const used = (meta.counts || {}).uncompressedBytes || 0;
      const f = Math.min(1, used / (l.maxSizeMB * 1e6));
      parts.push(h('div', {}, h('strong', {}, 'Size limit: '), `${bytes(used)} of ${bytes(l.maxSizeMB * 1e6)} (${percent(f, 0)}), `,
        `${bytes(Math.max(0, l.maxSizeMB * 1e6 - used))} left`,
        h('div', { class: `bar${f > 0.8 ? ' warn' : ''}` }, h('span', { style: { width: `${f * 100}%` } }))));
    }
    if (l.maxDurationMinutes) {
      const total = l.maxDurationMinutes * 60;
      const f = Math.min(1, elapsed / total);
      parts.push(h('div', {}, h('strong', {}, 'Time limit: '), `${duration(Math.max(0, total - elapsed))} left of ${duration(total)}`,
        h('div', { class: `bar${f > 0.8 ? ' warn' : ''}` }, h('span', { style: { width: `${f * 100}%` } }))));
    }
    if (!parts.length) {
      parts.push(h('p', { class: 'muted small' }, savedLimits(id) ? 'No size or time limit: it records until stopped.'
        : 'Its limits are not known to this browser (started elsewhere): it records until stopped or a limit of its own.'));
    }
    fill(limitsBox, ...parts);
  }

  let marks = 0;  // phases marked on this page: an answer asked for before the last mark has older phases
  async function tick() {
    const asked = marks;
    const [mr, sr] = await Promise.allSettled([get(`/api/captures/${enc(id)}`, { signal }), get('/api/stats', { signal })]);
    if (signal.aborted) return;
    if (mr.status === 'rejected') throw mr.reason;
    meta = asked === marks ? mr.value : { ...mr.value, phases: meta.phases };
    const now = Date.now();
    const t = performance.now();
    const c = meta.counts || {};
    const stats = sr.status === 'fulfilled' ? sr.value : null;
    if (sr.status === 'rejected' && (!statsError || statsError.message !== sr.reason.message)) {
      statsError = sr.reason;
      fill(statsNote, `The receivers' counters are not available: ${sr.reason.message}`);
    } else if (stats) statsNote.textContent = 'Receiver counters count every request since otelrr serve started, captured or not.';
    if (prev) {
      const dt = (t - prev.t) / 1000;
      if (dt > 0) {
        const reqRate = stats && prevStats ? (sumStats(stats, 'requests') - sumStats(prevStats, 'requests')) / dt
          : (requests(meta) - prev.requests) / dt;
        updateTile(tiles, 'reqRate', compact(Math.max(0, reqRate)));
        const ir = (items(meta) - prev.items) / dt;
        updateTile(tiles, 'itemRate', compact(Math.max(0, ir)));
        history.xs.push(now);
        history.spans.push(Math.max(0, ((c.spans || 0) - prev.spans) / dt));
        history.points.push(Math.max(0, ((c.dataPoints || 0) - prev.points) / dt));
        history.logs.push(Math.max(0, ((c.logRecords || 0) - prev.logs) / dt));
        while (history.xs.length && history.xs[0] < now - HISTORY_SECONDS * 1000) {
          for (const k of Object.keys(history)) history[k].shift();
        }
      }
    }
    prev = { t, items: items(meta), requests: requests(meta), spans: c.spans || 0, points: c.dataPoints || 0, logs: c.logRecords || 0 };
    prevStats = stats;
    updateTile(tiles, 'requests', int(requests(meta)));
    updateTile(tiles, 'spans', int(c.spans));
    updateTile(tiles, 'points', int(c.dataPoints));
    updateTile(tiles, 'logs', int(c.logRecords));
    updateTile(tiles, 'traces', int(c.traces));
    updateTile(tiles, 'bytes', bytes(c.uncompressedBytes), `${int(c.uncompressedBytes)} bytes`);
    updateTile(tiles, 'stored', bytes(meta.totalSizeBytes), `${int(meta.totalSizeBytes)} bytes`);
    updateTile(tiles, 'elapsed', duration((now - start) / 1000));
    if (stats) {
      for (const k of ['overloaded', 'invalid', 'failed', 'notRecorded']) {
        const v = sumStats(stats, k);
        updateTile(drops, k, int(v));
        drops.querySelector(`[data-tile="${k}"]`).classList.toggle('tile-bad', v > 0 && k !== 'notRecorded');
      }
      updateTile(drops, 'queued', bytes(stats.receiver && stats.receiver.queuedBytes));
    }
    drawLimits(now);
    drawPhases();
    chart.set({
      // The last five minutes, or since this page watches (at least 30 s).
      xs: history.xs, xMin: Math.min(now - 30000, Math.max(now - HISTORY_SECONDS * 1000, history.xs[0] ?? now)), xMax: now,
      series: [
        { name: 'Spans/s', color: '--c-spans', values: history.spans, fill: true },
        { name: 'Data points/s', color: '--c-points', values: history.points, fill: true },
        { name: 'Log records/s', color: '--c-logs', values: history.logs, fill: true },
      ],
      bands: (meta.phases || []).map((p) => ({ name: p.name, start: parseTime(p.startTime), end: parseTime(p.endTime) ?? now })),
    });
    if (meta.status !== 'active') {
      notify(`Capture ${id} ended: ${meta.statusReason || meta.status}.`, meta.status === 'failed' ? 'error' : 'ok');
      onFinished(meta);
    }
  }

  stopBtn.addEventListener('click', async () => {
    try {
      const final = await busy(stopBtn, () => post(`/api/captures/${enc(id)}/stop`));
      notify(`Capture ${id} stopped.`, 'ok');
      onFinished(final);
    } catch (e) {
      notify(e, 'error');
    }
  });
  phaseForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    phaseErr.replaceChildren();
    const name = phaseName.value.trim();
    if (!name) return;
    const body = { name };
    const fl = list(phaseFlags.value);
    if (fl.length) body.flags = fl;
    try {
      const r = await busy(startPhase, () => post(`/api/captures/${enc(id)}/phase`, body));
      marks++;
      meta = { ...meta, phases: r.phases };
      drawPhases();
      notify(`Phase ${name} started at ${localTime(Date.now(), { date: false })}.`, 'ok');
      phaseName.value = '';
      phaseFlags.value = '';
    } catch (ex) {
      fill(phaseErr, errorBox(ex, 'The phase was not marked'));
    }
  });
  endPhase.addEventListener('click', async () => {
    phaseErr.replaceChildren();
    try {
      const r = await busy(endPhase, () => post(`/api/captures/${enc(id)}/phase`, { end: true }));
      marks++;
      meta = { ...meta, phases: r.phases };
      drawPhases();
      notify('The phase ended.', 'ok');
    } catch (ex) {
      fill(phaseErr, errorBox(ex, 'The phase was not ended'));
    }
  });

  drawPhases();
  drawLimits(Date.now());
  let failures = 0;
  poll(signal, 1000, async () => {
    await tick();
    failures = 0;
  }, (e) => {
    failures++;
    if (e.status === 404) {
      onFinished({ ...meta, status: 'failed', statusReason: 'the capture is no longer known to the server' });
      return;
    }
    if (failures === 1) notify(e, 'error');
  });
}
