// #/seed: generate a session from a pattern (GET /api/patterns, POST /api/seeds), its services and phases
// shown before, the progress after (GET /api/seeds/{id}), then a link to the new session.

import { h, fill, field, checkbox } from '../dom.js';
import { get, post, enc } from '../api.js';
import { int, percent, duration } from '../format.js';
import { errorBox, loading, badge, table, poll, notify, busy, emptyState } from '../ui.js';

const state = { pattern: 'basic-topology' };

export async function render(root, { signal }) {
  const chooser = h('div', {}, loading('Loading the patterns…'));
  const details = h('div', {});
  const runs = h('div', { class: 'seed-runs' });
  fill(root, h('h1', {}, 'Seed'),
    h('p', { class: 'muted' }, 'Generates a deterministic synthetic session (traces, metrics and logs) from a pattern, as ',
      h('code', {}, 'otelrr seed'), ' does: the same pattern, options and random seed give the same session.'),
    chooser, details);

  const watched = new Set();
  function watch(id) {
    if (watched.has(id)) return;
    watched.add(id);
    const box = h('div', { class: 'panel', dataset: { seed: id } }, h('strong', {}, `Seed ${id}: `), 'starting…');
    runs.prepend(box);
    let done = false;
    const stop = new AbortController();
    signal.addEventListener('abort', () => stop.abort());
    poll(stop.signal, 500, async () => {
      if (done) return;
      const s = await get(`/api/seeds/${enc(id)}`, { signal: stop.signal });
      const total = s.tracesTotal || 0;
      const f = total ? (s.tracesDone || 0) / total : 0;
      if (s.status === 'running') {
        fill(box, h('div', {}, h('strong', {}, `Generating ${id}: `), badge('running'),
          ` ${int(s.tracesDone)} of ${int(total)} traces (${percent(f, 0)})`),
        h('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': String(Math.round(f * 100)), 'aria-label': `Progress of seed ${id}` },
          h('span', { style: { width: `${f * 100}%` } })));
        return;
      }
      done = true;
      stop.abort();
      if (s.status === 'completed') {
        const r = s.result || {};
        box.className = 'ok-box';
        fill(box, h('strong', {}, `Seed ${id} completed: `),
          `${int(r.traces ?? s.tracesDone)} traces, ${int(r.spans)} spans, ${int(r.dataPoints)} data points, ${int(r.logRecords)} log records`,
          r.phases && r.phases.length ? `, phases ${r.phases.map((p) => p.name || p).join(', ')}` : '', '. ',
          h('a', { href: `#/sessions/${enc(id)}` }, 'Open the session'), ' · ',
          h('a', { href: `#/replay?session=${enc(id)}` }, 'Replay it'), ' · ', h('a', { href: '#/sessions' }, 'All sessions'));
        notify(`Seed ${id} completed.`, 'ok');
      } else {
        box.className = 'error-box';
        fill(box, h('strong', {}, `Seed ${id} ${s.status}: `), s.error || 'no reason given');
      }
    }, (e) => {
      done = true;
      stop.abort();
      box.className = 'error-box';
      fill(box, h('strong', {}, `Seed ${id}: `), `its progress could not be read: ${e.message}`);
    });
  }

  // Seeds that run already (started before a reload, or elsewhere).
  get('/api/seeds', { signal }).then((r) => {
    for (const s of (r.seeds || []).filter((x) => x.status === 'running')) watch(s.sessionId);
  }, () => {});

  let patterns;
  try {
    patterns = (await get('/api/patterns', { signal })).patterns || [];
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    fill(chooser, errorBox(e, 'The patterns could not be listed'), runs);
    return;
  }
  if (!patterns.length) {
    fill(chooser, emptyState('No patterns', h('p', {}, 'This otelrr has no seed patterns (see ', h('code', {}, 'otelrr patterns'), ').')));
    return;
  }
  if (!patterns.some((p) => p.name === state.pattern)) state.pattern = patterns[0].name;

  const radios = patterns.map((p) => {
    const input = h('input', { type: 'radio', name: 'pattern', value: p.name, checked: p.name === state.pattern });
    input.addEventListener('change', () => {
      state.pattern = p.name;
      showPattern();
    });
    return h('label', { class: 'pattern-option' }, input,
      h('span', {}, h('strong', {}, p.name), h('small', {}, p.description || '')));
  });
  fill(chooser, h('fieldset', { class: 'patterns' }, h('legend', { class: 'offscreen' }, 'Pattern'), radios));

  const form = seedForm(() => state.pattern, (id) => watch(id));
  const patternBox = h('div', {});
  fill(details, h('div', { class: 'two-col' }, h('div', {}, patternBox), h('div', {}, form, runs)));

  function showPattern() {
    const p = patterns.find((x) => x.name === state.pattern);
    if (!p) return;
    const kinds = {};
    for (const s of p.services || []) (kinds[s.kind || 'service'] ||= []).push(s.name);
    fill(patternBox,
      h('h2', {}, p.name),
      p.description ? h('p', {}, p.description) : null,
      h('p', { class: 'muted small' }, `${int((p.services || []).length)} services, ${int(p.operations)} operations`,
        p.maxCallDepth ? `, calls up to ${p.maxCallDepth} deep` : '',
        p.maxSpansPerTrace ? `, at most ${int(p.maxSpansPerTrace)} spans per trace` : ''),
      h('h3', {}, 'Services'),
      h('div', { class: 'chips', style: { margin: '0.4rem 0 0.8rem' } }, Object.entries(kinds).map(([kind, names]) =>
        names.map((n) => h('span', { class: 'chip', title: kind }, n,
          kind !== 'application' ? h('span', { class: 'muted' }, ` (${kind})`) : null)))),
      h('h3', { style: { marginBottom: '0.4rem' } }, 'Phases'),
      (p.phases || []).length ? table([
        { label: 'Phase', cell: (x) => x.name },
        { label: 'Share', class: 'num', cell: (x) => percent(x.fraction ?? 0, 0) },
        { label: 'Flags', cell: (x) => (x.flags || []).join(', ') || '—' },
        { label: 'Annotation', class: 'mono', cell: (x) => x.annotationKey || '—' },
      ], p.phases) : h('p', { class: 'muted' }, 'One steady phase: no phases declared.'),
      (p.entryPoints || []).length ? h('details', { style: { marginTop: '0.8rem' } },
        h('summary', {}, `Entry points (${p.entryPoints.length})`),
        h('ul', { class: 'small' }, p.entryPoints.map((e) => h('li', { class: 'mono' }, e)))) : null);
    form.dataset.pattern = p.name;
    form.querySelector('[data-pattern-name]').textContent = p.name;
  }
  showPattern();
}

function seedForm(pattern, onStarted) {
  const err = h('div', {});
  const dur = h('input', { name: 'durationSeconds', type: 'number', min: '1', step: '1', value: '30' });
  const rate = h('input', { name: 'tracesPerSecond', type: 'number', min: '0', step: 'any', value: '10' });
  const errorRate = h('input', { name: 'errorRate', type: 'number', min: '0', max: '1', step: 'any', value: '0.05' });
  const seed = h('input', { name: 'seed', type: 'text', inputmode: 'numeric', placeholder: 'random', autocomplete: 'off' });
  const sessionId = h('input', { name: 'sessionId', placeholder: 'seed-<time>-<random>', autocomplete: 'off' });
  const description = h('input', { name: 'description' });
  const retention = h('input', { name: 'retentionDays', type: 'number', min: '1', max: '36500', step: '1', placeholder: 'store policy' });
  const startTime = h('input', { name: 'startTime', placeholder: 'now', autocomplete: 'off' });
  const total = h('small', { class: 'hint' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Generate');
  const updateTotal = () => {
    const n = Number(dur.value) * Number(rate.value);
    total.textContent = Number.isFinite(n) && n > 0
      ? `${int(n)} traces over ${duration(Number(dur.value))} of simulated time`
        + `${Number.isInteger(Math.round(n * 1e6) / 1e6) ? '' : ': rate × duration must be a whole number'}`
      : '';
  };
  dur.addEventListener('input', updateTotal);
  rate.addEventListener('input', updateTotal);
  updateTotal();
  const form = h('form', { class: 'panel', 'aria-label': 'Generate a seed session', style: { marginTop: 0 } },
    h('h2', { style: { marginTop: 0 } }, 'Generate from ', h('span', { 'data-pattern-name': '' }, '')),
    h('div', { class: 'form-grid' },
      field('Duration (s)', dur, 'Simulated seconds the session spans'),
      field('Traces per second', rate),
      field('Error rate', errorRate, 'Fraction of traces that fail, 0 to 1 (phases can raise it)'),
      field('Random seed', seed, 'Empty: drawn, and recorded with the session'),
      field('Session id', sessionId, 'Empty: one is made up'),
      field('Description', description),
      field('Retention (days)', retention),
      field('Start time', startTime, 'RFC 3339 (2026-01-01T00:00:00Z); empty: now'),
      h('fieldset', {}, h('legend', {}, 'Signals'),
        h('div', { class: 'inline-checks' },
          checkbox('Traces', 'traces', true), checkbox('Metrics', 'metrics', true), checkbox('Logs', 'logs', true)))),
    total, err, h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.replaceChildren();
    const f = form.elements;
    const body = { pattern: pattern() };
    if (dur.value !== '') body.durationSeconds = Number(dur.value);
    if (rate.value !== '') body.tracesPerSecond = Number(rate.value);
    if (errorRate.value !== '') body.errorRate = Number(errorRate.value);
    if (seed.value.trim() !== '') {
      if (!/^\d+$/.test(seed.value.trim())) {
        fill(err, errorBox(new Error('The random seed is a whole number from 0 to 2^64 − 1.')));
        seed.focus();
        return;
      }
      body.seed = seed.value.trim();
    }
    if (sessionId.value.trim()) body.sessionId = sessionId.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    if (retention.value !== '') body.retentionDays = Number(retention.value);
    if (startTime.value.trim()) body.startTime = startTime.value.trim();
    body.signals = ['traces', 'metrics', 'logs'].filter((s) => f[s].checked);
    try {
      // The random seed goes as a JSON number of its own digits (exact beyond 2^53).
      const json = body.seed === undefined ? body
        : JSON.stringify({ ...body, seed: '\u0000seed' }).replace('"\\u0000seed"', body.seed);
      const r = await busy(submit, () => post('/api/seeds', json));
      onStarted(r.sessionId);
    } catch (ex) {
      fill(err, errorBox(ex, 'The seed did not start'));
    }
  });
  return form;
}
