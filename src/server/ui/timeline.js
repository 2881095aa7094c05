// A session's timeline (GET /api/sessions/{id}/timeline: items per bucket of arrival time) as chart data,
// and what a replay's dashboard derives from it: the rate the schedule asks for at a position, and the
// phase that holds a position.

import { nanosToMs, parseTime } from './format.js';

// The session's phases as [{name, start, end, flags}] in ms: the timeline's, else the metadata's.
export function phasesOf(timeline, metadata) {
  if (timeline && Array.isArray(timeline.phases) && timeline.phases.length) {
    return timeline.phases.map((p) => ({
      name: p.name, start: nanosToMs(p.startUnixNano), end: p.endUnixNano == null ? null : nanosToMs(p.endUnixNano),
      flags: p.flags || [],
    }));
  }
  return ((metadata && metadata.phases) || []).map((p) => ({
    name: p.name, start: parseTime(p.startTime), end: parseTime(p.endTime), flags: p.flags || [],
  }));
}

// The phase whose [start, end) holds t, or null.
export function phaseAt(phases, t) {
  if (!Number.isFinite(t)) return null;
  return phases.find((p) => p.start <= t && t < (p.end ?? Infinity)) || null;
}

const perSecond = (values, seconds) => (values || []).map((v) => v / seconds);

// {xs, step, series, bands, start, end} for TimeChart: spans/s, data points/s, log records/s, requests/s (hidden
// at first) on the left axis, the spans' error rate on the right.
export function chartData(timeline, metadata) {
  const b = Math.max(1, Number(timeline.bucketSeconds) || 1);
  const t0 = nanosToMs(timeline.startUnixNano);
  const n = Math.max(...['spans', 'dataPoints', 'logRecords', 'requests'].map((k) => (timeline[k] || []).length), 0);
  const xs = Array.from({ length: n }, (_, i) => t0 + i * b * 1000);
  const spans = timeline.spans || [];
  const errors = timeline.errorSpans || [];
  const series = [];
  if (spans.some((v) => v > 0)) series.push({ name: 'Spans/s', color: '--c-spans', values: perSecond(spans, b), fill: true });
  if ((timeline.dataPoints || []).some((v) => v > 0)) {
    series.push({ name: 'Data points/s', color: '--c-points', values: perSecond(timeline.dataPoints, b), fill: true });
  }
  if ((timeline.logRecords || []).some((v) => v > 0)) {
    series.push({ name: 'Log records/s', color: '--c-logs', values: perSecond(timeline.logRecords, b), fill: true });
  }
  if ((timeline.requests || []).some((v) => v > 0)) {
    series.push({ name: 'Requests/s', color: '--c-requests', values: perSecond(timeline.requests, b), hidden: true });
  }
  if (spans.some((v) => v > 0)) {
    series.push({ name: 'Span error rate', color: '--c-errors', axis: 'y2',
      values: spans.map((s, i) => (s > 0 ? (errors[i] || 0) / s : null)) });
  }
  const phases = phasesOf(timeline, metadata);
  return {
    xs, step: b * 1000, series, start: t0, end: t0 + n * b * 1000,
    bands: phases.map((p) => ({ name: p.name, start: p.start, end: p.end ?? t0 + n * b * 1000 })),
  };
}

// Items per second of session time around t (ms): the buckets over [t - window, t), weighted by overlap.
export function itemsPerSecondAt(timeline, t, windowSeconds = 1, signals = ['spans', 'dataPoints', 'logRecords']) {
  const b = Math.max(1, Number(timeline.bucketSeconds) || 1) * 1000;
  const t0 = nanosToMs(timeline.startUnixNano);
  const w = Math.max(windowSeconds * 1000, b);
  const lo = t - w;
  let total = 0;
  const first = Math.max(0, Math.floor((lo - t0) / b));
  const last = Math.floor((t - t0) / b);
  for (let i = first; i <= last; i++) {
    const bs = t0 + i * b;
    const overlap = Math.max(0, Math.min(bs + b, t) - Math.max(bs, lo));
    if (!overlap) continue;
    let items = 0;
    for (const k of signals) items += (timeline[k] && timeline[k][i]) || 0;
    total += items * (overlap / b);
  }
  return total / (w / 1000);
}
