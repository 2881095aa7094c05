// #/replay[?session=ID]: the replay form (every OrchestratorConfig field POST /api/replays takes) and a live
// dashboard per replay, from GET /api/replays every second. The replays run in otelrr serve, so the
// dashboards come back after a reload (only the rate history starts again).
//
// Numbers: items/s sent is the change of spans + data points + log records over the change of the replay's
// elapsedSeconds between two polls; items/s scheduled is what the session's timeline holds around the
// replay's position (the items of the last max(speed, bucket) seconds of session time) times the speed.

import { h, fill, field, checkbox, select, list } from '../dom.js';
import { get, post, enc } from '../api.js';
import { int, compact, duration, millis, nanosToMs, localTime, percent } from '../format.js';
import { errorBox, emptyState, loading, badge, tile, updateTile, poll, notify, busy, table } from '../ui.js';
import { TimeChart } from '../chart.js';
import { chartData, phasesOf, phaseAt, itemsPerSecondAt } from '../timeline.js';

const ENDPOINT_KEY = 'otelrr.replay.endpoint';
const HISTORY_SECONDS = 300;
const FINISHED_CARDS = 6;

// Per session: {timeline, metadata} promises, fetched once per visit of the page.
function sessionCache(signal) {
  const cache = new Map();
  return (id) => {
    if (!cache.has(id)) {
      cache.set(id, {
        timeline: get(`/api/sessions/${enc(id)}/timeline`, { signal }),
        metadata: get(`/api/sessions/${enc(id)}`, { signal }),
      });
      // Errors are read where they are used; never unhandled.
      cache.get(id).timeline.catch(() => {});
      cache.get(id).metadata.catch(() => {});
    }
    return cache.get(id);
  };
}

const order = (id) => Number(String(id).replace(/^\D+/, '')) || 0;

export async function render(root, { query, signal }) {
  const preset = query.get('session') || '';
  const session = sessionCache(signal);
  const cardsBox = h('div', { class: 'replays', 'aria-live': 'off' });
  const earlier = h('div', {});
  const pollError = h('div', {});
  const details = h('details', { class: 'panel', open: true },
    h('summary', {}, 'New replay'), replayForm(preset, session, (status) => {
      details.open = false;
      refresh().then(() => {
        const card = cards.get(status.replayId);
        if (card) card.el.scrollIntoView({ block: 'start', behavior: 'smooth' });
      });
    }));
  fill(root, h('h1', {}, 'Replay'),
    h('p', { class: 'muted' }, 'Sends a session to any OTLP endpoint on its own schedule; several replays can run at once (up to 8).'),
    details, h('h2', {}, 'Replays'), pollError, cardsBox, earlier);

  const cards = new Map();
  let first = true;

  async function refresh() {
    const replays = (await get('/api/replays', { signal })).replays || [];
    pollError.replaceChildren();
    if (first) {
      first = false;
      if (!preset && replays.some((r) => r.status === 'running')) details.open = false;
    }
    const running = replays.filter((r) => r.status === 'running').sort((a, b) => order(b.replayId) - order(a.replayId));
    const done = replays.filter((r) => r.status !== 'running').sort((a, b) => order(b.replayId) - order(a.replayId));
    const shown = [...running, ...done.slice(0, FINISHED_CARDS)];
    const keep = new Set(shown.map((r) => r.replayId));
    for (const [id, card] of cards) {
      if (!keep.has(id)) {
        card.destroy();
        cards.delete(id);
      }
    }
    for (const r of shown) {
      if (!cards.has(r.replayId)) cards.set(r.replayId, new ReplayCard(r, session, refresh));
      cards.get(r.replayId).update(r);
    }
    const want = shown.map((r) => cards.get(r.replayId).el);
    const have = [...cardsBox.children];
    if (want.length !== have.length || want.some((el, i) => el !== have[i])) cardsBox.replaceChildren(...want);
    if (!replays.length) {
      fill(cardsBox, emptyState('No replays yet', h('p', {}, 'Start one with the form above: pick a session and a target endpoint.')));
    }
    const rest = done.slice(FINISHED_CARDS);
    if (!rest.length) earlier.replaceChildren();
    else {
      fill(earlier, h('h3', { style: { margin: '1rem 0 0.5rem' } }, 'Earlier replays'), table([
        { label: 'Replay', cell: (r) => r.replayId },
        { label: 'Session', cell: (r) => h('a', { href: `#/sessions/${enc(r.sessionId)}` }, r.sessionId) },
        { label: 'Status', cell: (r) => badge(r.status) },
        { label: 'Endpoint', cell: (r) => r.endpoint },
        { label: 'Items', class: 'num', cell: (r) => int((r.spans || 0) + (r.dataPoints || 0) + (r.logRecords || 0)) },
        { label: 'Failed', class: 'num', cell: (r) => int(r.failedRequests) },
        { label: 'Elapsed', class: 'num', cell: (r) => duration(r.elapsedSeconds) },
      ], rest));
    }
  }

  signal.addEventListener('abort', () => { for (const c of cards.values()) c.destroy(); });
  let failures = 0;
  poll(signal, 1000, async () => {
    await refresh();
    failures = 0;
  }, (e) => {
    failures++;
    fill(pollError, errorBox(e, failures > 1 ? `The replays could not be read (${failures} tries)` : 'The replays could not be read'));
  });
}

// --- the form ---------------------------------------------------------------------------------------------

function replayForm(preset, session, onStarted) {
  const err = h('div', {});
  const modeOne = h('input', { type: 'radio', name: 'mode', value: 'one', id: 'mode-one', checked: true });
  const modeAuto = h('input', { type: 'radio', name: 'mode', value: 'auto', id: 'mode-auto' });
  const sessionId = h('input', { name: 'sessionId', value: preset, list: 'available-sessions', placeholder: 'a session id', autocomplete: 'off' });
  const available = h('datalist', { id: 'available-sessions' });
  const strategy = select('selectionStrategy',
    [['latest', 'latest'], ['random', 'random'], ['largest', 'largest (items)'], ['smallest', 'smallest (items)']], 'latest');
  const filterType = select('sessionType', [['', 'any type'], ['seed', 'seed'], ['capture', 'capture'], ['training', 'training']], '');
  let savedEndpoint = '';
  try {
    savedEndpoint = localStorage.getItem(ENDPOINT_KEY) || '';
  } catch {
    savedEndpoint = '';
  }
  const endpoint = h('input', { name: 'targetEndpoint', required: true, value: savedEndpoint,
    placeholder: 'http://127.0.0.1:4318', autocomplete: 'url' });
  const protocol = select('protocol',
    [['http/protobuf', 'OTLP/HTTP protobuf'], ['http/json', 'OTLP/HTTP JSON'], ['grpc', 'OTLP/gRPC']], 'http/protobuf');
  const compression = select('compression', [['gzip', 'gzip'], ['none', 'none']], 'gzip');
  const speed = h('input', { name: 'speedMultiplier', type: 'number', min: '0', step: 'any', value: '1' });
  const maxDuration = h('input', { name: 'maxDuration', type: 'number', min: '0', step: 'any', placeholder: '3600' });
  const timestamps = select('timestampAdjustment', [['relative', 'relative: move the timeline to now'],
    ['current', 'current: each request at its send time'], ['none', 'none: as recorded']], 'relative');
  const services = h('input', { name: 'services', placeholder: 'all services', autocomplete: 'off' });
  const phases = h('input', { name: 'phases', placeholder: 'all of the session', autocomplete: 'off' });
  const headers = h('textarea', { name: 'headers', rows: 2, placeholder: 'Authorization: Bearer abc\nX-Scope-OrgID: tenant1' });
  const suggestServices = h('div', { class: 'suggest' });
  const suggestPhases = h('div', { class: 'suggest' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start replay');

  const oneBox = h('div', { class: 'form-grid' }, field('Session', sessionId, 'The session to send'), available);
  const autoBox = h('div', { class: 'form-grid', hidden: true },
    field('Strategy', strategy, 'Among the finished sessions'), field('Only of type', filterType));
  const form = h('form', { 'aria-label': 'Start a replay', novalidate: true },
    h('fieldset', {}, h('legend', {}, 'What to replay'),
      h('div', { class: 'inline-checks', style: { marginBottom: '0.6rem' } },
        h('span', { class: 'check' }, modeOne, h('label', { for: 'mode-one' }, 'A session')),
        h('span', { class: 'check' }, modeAuto, h('label', { for: 'mode-auto' }, 'Pick one automatically'))),
      oneBox, autoBox),
    h('div', { class: 'form-grid', style: { marginTop: '0.9rem' } },
      field('Target endpoint', endpoint, 'http(s):// for OTLP/HTTP, grpc(s):// or the gRPC protocol for OTLP/gRPC'),
      field('Protocol', protocol),
      field('Compression', compression),
      field('Speed', speed, '1 real time, 2 twice as fast, 0 as fast as the target accepts'),
      field('Max duration (s)', maxDuration, 'Wall time; default 3600'),
      field('Timestamps', timestamps),
      h('fieldset', {}, h('legend', {}, 'Signals'),
        h('div', { class: 'inline-checks' }, checkbox('Traces', 'replayTraces', true), checkbox('Metrics', 'replayMetrics', true),
          checkbox('Logs', 'replayLogs', true))),
      h('fieldset', {}, h('legend', {}, 'Options'),
        checkbox('Loop until the duration ends', 'loopEnabled', false),
        checkbox('New trace and span ids', 'rewriteIds', false)),
      h('div', { class: 'field' }, h('label', { for: 'services-input' }, 'Services'), Object.assign(services, { id: 'services-input' }),
        h('small', { class: 'hint' }, 'Comma-separated service.name values to keep'), suggestServices),
      h('div', { class: 'field' }, h('label', { for: 'phases-input' }, 'Phases'), Object.assign(phases, { id: 'phases-input' }),
        h('small', { class: 'hint' }, 'Comma-separated: only the items of these phases'), suggestPhases),
      h('div', { class: 'field wide' }, h('label', { for: 'headers-input' }, 'Headers'), Object.assign(headers, { id: 'headers-input' }),
        h('small', { class: 'hint' }, 'One per line, Name: value (or Name=value); sent with every request'))),
    err, h('div', { class: 'form-actions' }, submit));

  const setMode = () => {
    oneBox.hidden = !modeOne.checked;
    autoBox.hidden = modeOne.checked;
  };
  modeOne.addEventListener('change', setMode);
  modeAuto.addEventListener('change', setMode);

  const addTo = (input, value) => {
    const items = list(input.value);
    if (!items.includes(value)) items.push(value);
    input.value = items.join(', ');
  };
  let suggestFor = null;
  async function suggest() {
    const id = sessionId.value.trim();
    if (id === suggestFor) return;
    suggestFor = id;
    suggestServices.replaceChildren();
    suggestPhases.replaceChildren();
    if (!id) return;
    const s = session(id);
    s.metadata.then((m) => {
      if (suggestFor !== id) return;
      const names = (m.phases || []).map((p) => p.name);
      if (names.length) {
        fill(suggestPhases, h('span', { class: 'muted' }, 'This session\'s:'),
          names.map((n) => h('button', { type: 'button', onclick: () => addTo(phases, n), 'aria-label': `Add phase ${n}` }, n)));
      }
    }, () => {});
    s.timeline.then((tl) => {
      if (suggestFor !== id) return;
      const names = (tl.services || []).map((x) => x.name).slice(0, 30);
      if (names.length) {
        fill(suggestServices, h('span', { class: 'muted' }, 'This session\'s:'),
          names.map((n) => h('button', { type: 'button', onclick: () => addTo(services, n), 'aria-label': `Add service ${n}` }, n)));
      }
    }, () => {});
  }
  let timer = null;
  sessionId.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 300);
  });
  if (preset) suggest();
  get('/api/replays/available').then((r) => {
    fill(available, (r.sessions || []).slice(0, 500).map((m) =>
      h('option', { value: m.sessionId }, `${m.sessionType || ''} ${m.description || ''}`.trim())));
  }, () => {});

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.replaceChildren();
    const f = form.elements;
    const body = {
      targetEndpoint: endpoint.value.trim(), protocol: protocol.value, compression: compression.value,
      timestampAdjustment: timestamps.value, loopEnabled: f.loopEnabled.checked, rewriteIds: f.rewriteIds.checked,
      replayTraces: f.replayTraces.checked, replayMetrics: f.replayMetrics.checked, replayLogs: f.replayLogs.checked,
    };
    if (modeOne.checked) {
      body.sessionId = sessionId.value.trim();
      if (!body.sessionId) {
        fill(err, errorBox(new Error('Give the session to replay, or pick one automatically.')));
        sessionId.focus();
        return;
      }
    } else {
      body.sessionId = 'auto';
      body.selectionStrategy = strategy.value;
      if (filterType.value) body.sessionFilter = { sessionType: filterType.value };
    }
    if (!body.targetEndpoint) {
      fill(err, errorBox(new Error('Give the target endpoint, e.g. http://127.0.0.1:4318.')));
      endpoint.focus();
      return;
    }
    if (speed.value !== '') body.speedMultiplier = Number(speed.value);
    if (maxDuration.value !== '') body.maxDuration = Number(maxDuration.value);
    const sv = list(services.value);
    if (sv.length) body.services = sv;
    const ph = list(phases.value);
    if (ph.length) body.phases = ph;
    const hd = {};
    for (const line of headers.value.split('\n')) {
      const t = line.trim();
      if (!t) continue;
      const m = /^([^:=]+)[:=](.*)$/.exec(t);
      if (!m) {
        fill(err, errorBox(new Error(`The header line "${t}" is not Name: value.`)));
        headers.focus();
        return;
      }
      hd[m[1].trim()] = m[2].trim();
    }
    if (Object.keys(hd).length) body.headers = hd;
    try {
      const status = await busy(submit, () => post('/api/replays', body));
      try {
        localStorage.setItem(ENDPOINT_KEY, body.targetEndpoint);
      } catch {
        // not remembered
      }
      notify(`Replay ${status.replayId} of ${status.sessionId} started.`, 'ok');
      onStarted(status);
    } catch (ex) {
      fill(err, errorBox(ex, 'The replay did not start'));
    }
  });
  return form;
}

// --- a dashboard ------------------------------------------------------------------------------------------

const itemsOf = (r) => (r.spans || 0) + (r.dataPoints || 0) + (r.logRecords || 0);

class ReplayCard {
  constructor(r, session, refresh) {
    this.id = r.replayId;
    this.sessionId = r.sessionId;
    this.session = session(r.sessionId);
    this.prev = null;
    this.history = { xs: [], sent: [], scheduled: [] };
    this.timeline = null;
    this.phases = [];
    this.stop = h('button', { type: 'button', class: 'danger-fill', 'aria-label': `Stop replay ${r.replayId}` }, 'Stop');
    this.stop.addEventListener('click', async () => {
      try {
        const final = await busy(this.stop, () => post(`/api/replays/${enc(this.id)}/stop`));
        notify(`Replay ${this.id} stopped.`, 'ok');
        this.update(final);
        refresh();
      } catch (e) {
        notify(e, 'error');
      }
    });
    this.badge = h('span', {});
    this.meta = h('span', { class: 'muted small' });
    this.bar = h('span', { style: { width: '0%' } });
    this.progressText = h('span', { class: 'small', 'data-progress': '' });
    this.phaseText = h('span', { class: 'small' });
    this.tiles = h('div', { class: 'tiles' },
      tile('items/s sent', '—', { id: 'sent' }), tile('items/s scheduled', '—', { id: 'scheduled' }),
      tile('spans', '0', { id: 'spans' }), tile('data points', '0', { id: 'dataPoints' }), tile('log records', '0', { id: 'logRecords' }),
      tile('requests sent', '0', { id: 'sentRequests' }), tile('lag p50', '—', { id: 'p50' }), tile('lag p99', '—', { id: 'p99' }),
      tile('lag max', '—', { id: 'max' }), tile('retries', '0', { id: 'retries' }), tile('failed requests', '0', { id: 'failed' }),
      tile('abandoned', '0', { id: 'abandoned' }), tile('in flight', '0', { id: 'inFlight' }), tile('elapsed', '0 s', { id: 'elapsed' }));
    this.codes = h('div', { class: 'codes' });
    this.errors = h('div', {});
    this.timelineBox = h('div', {}, loading('Loading the session\'s timeline…'));
    this.rateBox = h('div', {});
    this.el = h('article', { class: 'replay-card', dataset: { replay: r.replayId }, 'aria-label': `Replay ${r.replayId}` },
      h('header', {}, h('h3', {}, r.replayId), this.badge,
        h('span', {}, 'session ', h('a', { href: `#/sessions/${enc(r.sessionId)}` }, r.sessionId), ' → ', h('code', {}, r.endpoint || '')),
        this.meta, h('span', { class: 'spacer' }), this.stop),
      h('div', { class: 'replay-progress' }, h('div', { class: 'bar', role: 'progressbar', 'aria-label': `Progress of ${r.replayId}` }, this.bar),
        this.progressText, this.phaseText),
      this.tiles,
      h('div', { class: 'codes' }, h('strong', { class: 'small' }, 'Target\'s answers:'), this.codes),
      this.errors,
      h('div', { class: 'two-col', style: { marginTop: '0.6rem' } },
        h('div', {}, h('h4', { class: 'small muted', style: { margin: '0.3rem 0' } }, 'Position on the session\'s timeline'), this.timelineBox),
        h('div', {}, h('h4', { class: 'small muted', style: { margin: '0.3rem 0' } }, 'Items per second, sent and scheduled'), this.rateBox)));
    this.rateChart = new TimeChart(this.rateBox, { height: 170, label: `Items per second sent by ${r.replayId}, and scheduled` });
    this.loadTimeline();
  }

  async loadTimeline() {
    try {
      this.timeline = await this.session.timeline;
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(this.timelineBox, errorBox(e, 'The session\'s timeline is not available'));
      try {
        this.phases = phasesOf(null, await this.session.metadata);
      } catch {
        this.phases = [];
      }
      return;
    }
    const meta = await this.session.metadata.catch(() => null);
    this.phases = phasesOf(this.timeline, meta);
    this.timelineBox.replaceChildren();
    this.chart = new TimeChart(this.timelineBox, { height: 170, label: `Timeline of session ${this.sessionId}, with the replay's position` });
    this.chartData = chartData(this.timeline, meta);
    this.chart.set({ ...this.chartData, series: this.chartData.series.filter((s) => s.axis !== 'y2') });
    if (this.last) this.update(this.last);
  }

  destroy() {
    if (this.chart) this.chart.destroy();
    this.rateChart.destroy();
    this.el.remove();
  }

  // The replay's position on the session's timeline (ms), and that timeline's range.
  position(r) {
    const pos = nanosToMs(r.positionUnixNano);
    let lo = nanosToMs(r.timelineStartUnixNano);
    let hi = nanosToMs(r.timelineEndUnixNano);
    if (lo === null && this.chartData) {
      lo = this.chartData.start;
      hi = this.chartData.end;
    }
    if (pos !== null) return { pos, lo, hi, estimated: false };
    if (lo === null || !r.recordsTotal) return { pos: null, lo, hi };
    return { pos: lo + (hi - lo) * Math.min(1, r.recordsProcessed / r.recordsTotal), lo, hi, estimated: true };
  }

  update(r) {
    const running = r.status === 'running';
    // A finished replay no longer changes: its card is drawn once, not on every poll.
    const key = `${r.status}|${r.elapsedSeconds}|${r.recordsProcessed}|${r.spans}|${r.dataPoints}|${r.logRecords}`;
    if (!running && this.last && key === this.lastKey) return;
    this.lastKey = key;
    this.last = r;
    this.el.classList.toggle('running', running);
    fill(this.badge, badge(r.status));
    this.stop.hidden = !running;
    const speed = r.speed ?? null;
    fill(this.meta, [r.protocol, speed !== null ? (speed === 0 ? 'as fast as possible' : `×${speed}`) : null,
      r.loop ? 'loop' : null, r.timestamps && r.timestamps !== 'relative' ? `timestamps ${r.timestamps}` : null,
      r.phases && r.phases.length ? `phases ${r.phases.join(', ')}` : null,
      r.iterations > 1 ? `iteration ${r.iterations}` : null].filter(Boolean).join(' · '));

    // Sent: the change of the items over the change of the replay's own clock.
    const items = itemsOf(r);
    let sent = null;
    if (this.prev && r.elapsedSeconds > this.prev.elapsed) sent = (items - this.prev.items) / (r.elapsedSeconds - this.prev.elapsed);
    else if (this.prev && !running) sent = 0;
    if (!this.prev || r.elapsedSeconds !== this.prev.elapsed) this.prev = { items, elapsed: r.elapsedSeconds };

    const where = this.position(r);
    let scheduled = null;
    if (running && !r.loop && r.recordsTotal && r.recordsProcessed >= r.recordsTotal) scheduled = 0;  // all sent
    else if (running && this.timeline && where.pos !== null && speed) {
      scheduled = itemsPerSecondAt(this.timeline, where.pos, speed) * speed;
    }
    updateTile(this.tiles, 'sent', sent === null ? '—' : compact(sent),
      'spans + data points + log records in requests the target accepted, per second (the replay\'s own counters)');
    updateTile(this.tiles, 'scheduled', !running ? '—' : speed === 0 ? '∞' : scheduled === null ? '—' : compact(scheduled),
      speed === 0 ? 'speed 0: as fast as the target accepts' : 'what the session holds at this position, times the speed');
    for (const k of ['spans', 'dataPoints', 'logRecords']) updateTile(this.tiles, k, compact(r[k] || 0), int(r[k] || 0));
    updateTile(this.tiles, 'sentRequests', compact(r.sentRequests || 0), `${int(r.sentRequests)} sent, ${int(r.acceptedRequests)} accepted`);
    updateTile(this.tiles, 'p50', millis(r.p50LagMs));
    updateTile(this.tiles, 'p99', millis(r.p99LagMs));
    updateTile(this.tiles, 'max', millis(r.maxLagMs));
    updateTile(this.tiles, 'retries', int(r.retries));
    updateTile(this.tiles, 'failed', int(r.failedRequests));
    updateTile(this.tiles, 'abandoned', int(r.abandonedRequests));
    updateTile(this.tiles, 'inFlight', `${int(r.inFlight)}${r.retrying ? ` (+${int(r.retrying)})` : ''}`, `${int(r.retrying)} waiting for a retry`);
    updateTile(this.tiles, 'elapsed', duration(r.elapsedSeconds));
    for (const [k, bad] of [['failed', r.failedRequests], ['abandoned', r.abandonedRequests], ['retries', r.retries]]) {
      this.tiles.querySelector(`[data-tile="${k}"]`).classList.toggle('tile-bad', bad > 0);
    }

    // Progress.
    const byRecords = r.recordsTotal ? r.recordsProcessed / r.recordsTotal : null;
    const byPosition = where.pos !== null && !where.estimated && where.hi > where.lo ? (where.pos - where.lo) / (where.hi - where.lo) : null;
    // A replay that went through its whole session is at the end, though its last record arrived one mean gap
    // before the timeline's end.
    const whole = r.end === 'finished' && r.status !== 'running';
    const fraction = whole ? 1 : Math.max(0, Math.min(1, byPosition ?? byRecords ?? 0));
    this.bar.style.width = `${(fraction * 100).toFixed(1)}%`;
    this.bar.parentElement.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
    this.progressText.textContent = `${int(r.recordsProcessed)} of ${int(r.recordsTotal)} requests`
      + `${byRecords !== null ? ` (${percent(byRecords, 0)})` : ''}`
      + `${where.pos !== null ? ` · at ${localTime(where.pos, { date: false })} of the session${where.estimated ? ' (estimated)' : ''}` : ''}`;
    const phase = phaseAt(this.phases, where.pos);
    this.phaseText.textContent = this.phases.length ? `phase: ${phase ? phase.name : 'none'}` : '';
    if (this.chart && this.chartData) {
      this.chart.setMarkers(where.pos !== null && (running || r.status !== 'completed')
        ? [{ at: where.pos, label: running ? (phase ? `▶ ${phase.name}` : '▶') : '■' }] : []);
    }

    // The target's answers and the errors.
    const codes = Object.entries(r.statusCodes || {}).sort(([a], [b]) => a.localeCompare(b));
    const ok = (code) => /^2/.test(code) || code === 'OK' || code === '0';
    fill(this.codes, codes.length ? codes.map(([code, n]) => h('span', { class: `chip${ok(code) ? '' : ' chip-error'}`, dataset: { code } },
      h('b', {}, code), ` × ${int(n)}`)) : h('span', { class: 'muted small' }, r.statusCodes ? 'none yet' : 'not reported by this server'));
    const errs = [];
    if (r.error) errs.push(h('div', { class: 'error-box', role: 'alert' }, h('strong', {}, 'The replay failed: '), r.error));
    if (r.lastError) {
      errs.push(h('div', { class: 'error-box' }, h('strong', {}, 'Last error: '), r.lastError,
        r.firstError && r.firstError !== r.lastError ? h('div', { class: 'small muted' }, `First: ${r.firstError}`) : null));
    }
    if (r.rejectedItems) {
      errs.push(h('div', { class: 'error-box' }, `${int(r.rejectedItems)} items were rejected by the target (partial success).`));
    }
    fill(this.errors, errs);

    // The rate history.
    if (running && sent !== null) {
      const now = Date.now();
      const hs = this.history;
      hs.xs.push(now);
      hs.sent.push(Math.max(0, sent));
      hs.scheduled.push(scheduled);
      while (hs.xs.length && hs.xs[0] < now - HISTORY_SECONDS * 1000) for (const k of Object.keys(hs)) hs[k].shift();
    }
    if (this.history.xs.length) {
      this.rateChart.set({
        xs: this.history.xs,
        series: [
          { name: 'Sent/s', color: '--c-sent', values: this.history.sent, fill: true },
          { name: 'Scheduled/s', color: '--c-scheduled', values: this.history.scheduled, dash: [5, 3] },
        ],
      });
    } else {
      this.rateChart.options.emptyText = running ? 'Waiting for the next sample…' : 'Finished before this page watched it';
      this.rateChart.draw();
    }
  }
}
