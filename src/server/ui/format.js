// Formatting of numbers, sizes, durations and times. Times are shown in the browser's local zone; the
// element helpers put the UTC time in the title, so it shows on hover.

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

const missing = (n) => n === null || n === undefined || Number.isNaN(n);

// 1234567 -> "1,234,567"
export function int(n) {
  if (missing(n)) return '—';
  if (n instanceof String) return n.valueOf().replace(/\B(?=(\d{3})+(?!\d))/g, ',');  // beyond 2^53, exact
  return grouped.format(Math.round(Number(n)));
}

// A number with up to `digits` decimals, trailing zeros dropped: 2.5 -> "2.5", 0.333 -> "0.33".
export function num(n, digits = 2) {
  if (missing(n)) return '—';
  const v = Number(n);
  if (!Number.isFinite(v)) return String(v);
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }).format(v);
}

// 1234567 -> "1.2 M", 12345 -> "12.3 k", 999 -> "999", 2.5 -> "2.5".
export function compact(n) {
  if (missing(n)) return '—';
  const v = Number(n);
  const a = Math.abs(v);
  if (a < 1000) return a >= 100 || Number.isInteger(v) ? String(Math.round(v)) : num(v, a >= 10 ? 1 : 2);
  for (const [div, unit] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= div * 0.9995) {
      const x = v / div;
      return `${Math.abs(x) >= 100 ? Math.round(x) : x.toFixed(1)} ${unit}`;
    }
  }
  return String(v);
}

// Bytes in decimal units (as otelrr's sizes: MB = 10^6 bytes): 55932 -> "55.9 kB".
export function bytes(n) {
  if (missing(n)) return '—';
  const v = Number(n);
  if (Math.abs(v) < 1000) return `${Math.round(v)} B`;
  for (const [div, unit] of [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']]) {
    if (Math.abs(v) >= div * 0.9995) {
      const x = v / div;
      return `${Math.abs(x) >= 100 ? Math.round(x) : x.toFixed(1)} ${unit}`;
    }
  }
  return `${v} B`;
}

// Seconds as a short duration: 0.25 -> "250 ms", 9.5 -> "9.5 s", 65 -> "1 m 05 s", 7322 -> "2 h 02 m".
export function duration(seconds) {
  if (missing(seconds) || !Number.isFinite(Number(seconds))) return '—';
  let s = Number(seconds);
  const sign = s < 0 ? '−' : '';
  s = Math.abs(s);
  const pad = (x) => String(x).padStart(2, '0');
  if (s < 1) return `${sign}${Math.round(s * 1000)} ms`;
  if (s < 10) return `${sign}${num(s, 1)} s`;
  if (s < 60) return `${sign}${Math.round(s)} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return `${sign}${m} m ${pad(Math.floor(s - m * 60))} s`;
  }
  if (s < 86400) {
    const h = Math.floor(s / 3600);
    return `${sign}${h} h ${pad(Math.floor((s - h * 3600) / 60))} m`;
  }
  const d = Math.floor(s / 86400);
  return `${sign}${d} d ${Math.floor((s - d * 86400) / 3600)} h`;
}

// Milliseconds of lag: 2.81 -> "2.8 ms", 1530 -> "1.53 s".
export function millis(ms) {
  if (missing(ms)) return '—';
  const v = Number(ms);
  if (Math.abs(v) < 1000) return `${num(v, v < 10 ? 1 : 0)} ms`;
  return `${num(v / 1000, 2)} s`;
}

export function percent(fraction, digits = 1) {
  if (missing(fraction) || !Number.isFinite(Number(fraction))) return '—';
  return `${(Number(fraction) * 100).toFixed(digits)}%`;
}

export function rate(perSecond) {
  if (missing(perSecond)) return '—';
  return `${compact(perSecond)}/s`;
}

// Unix nanoseconds (a JSON number, or a decimal string as metadata.json writes them) -> milliseconds.
export function nanosToMs(v) {
  if (v instanceof String) v = v.valueOf();
  if (missing(v) || v === '') return null;
  if (typeof v === 'string') {
    // Keep the precision of long strings: the milliseconds are all but the last six digits.
    if (/^\d{7,}$/.test(v)) return Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6;
    return Number(v) / 1e6;
  }
  return Number(v) / 1e6;
}

// RFC 3339 (any number of fractional digits) -> milliseconds; null when absent or not a time.
export function parseTime(s) {
  if (missing(s) || s === '' || s === 'never') return null;
  if (typeof s === 'number') return s;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) {
    const t = Date.parse(s);
    return Number.isNaN(t) ? null : t;
  }
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return Date.parse(`${m[1]}${m[3]}`) + frac;
}

const pad2 = (x) => String(x).padStart(2, '0');

// Local time "2026-12-06 05:10:09" (".384" with millis; without the date or the seconds when they are false).
export function localTime(ms, { date = true, millis: withMs = false, seconds = true } = {}) {
  if (missing(ms)) return '—';
  const d = new Date(ms);
  let out = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (seconds) out += `:${pad2(d.getSeconds())}`;
  if (withMs) out += `.${String(d.getMilliseconds()).padStart(3, '0')}`;
  if (date) out = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${out}`;
  return out;
}

export function utcTime(ms) {
  if (missing(ms)) return '—';
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

// The browser's zone as "UTC+01:00".
export function zoneName(ms = Date.now()) {
  const off = -new Date(ms).getTimezoneOffset();
  const sign = off >= 0 ? '+' : '−';
  const a = Math.abs(off);
  return `UTC${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}

// A <time> element: local time as text, UTC on hover.
export function timeEl(ms, options) {
  const el = document.createElement('time');
  if (missing(ms)) {
    el.textContent = '—';
    return el;
  }
  el.dateTime = new Date(ms).toISOString();
  el.textContent = localTime(ms, options);
  el.title = `${localTime(ms, { millis: true })} local, ${utcTime(ms)}`;
  return el;
}

// "in 6 d 23 h", "2 h ago".
export function relative(ms, now = Date.now()) {
  if (missing(ms)) return '—';
  const s = (ms - now) / 1000;
  if (Math.abs(s) < 1) return 'now';
  return s > 0 ? `in ${duration(s)}` : `${duration(-s)} ago`;
}

// A session's expiresAt ("never", RFC 3339, or absent) as an element.
export function expiryEl(expiresAt) {
  const el = document.createElement('span');
  if (!expiresAt) {
    el.textContent = '—';
    el.title = 'no expiry of its own: the store\'s retention policy decides';
    return el;
  }
  if (expiresAt === 'never') {
    el.textContent = 'never';
    el.title = 'kept until deleted';
    return el;
  }
  const ms = parseTime(expiresAt);
  el.textContent = ms === null ? expiresAt : ms < Date.now() ? `expired ${relative(ms)}` : relative(ms);
  if (ms !== null) el.title = `${localTime(ms)} (${utcTime(ms)})`;
  if (ms !== null && ms < Date.now()) el.className = 'warn-text';
  return el;
}

// JSON for people: indented, integers beyond 2^53 (api.js keeps them as String objects) as their exact digits.
export function prettyJson(value) {
  const mark = '\u0000int:';
  const text = JSON.stringify(value, function replace(key, v) {
    return this[key] instanceof String ? `${mark}${this[key].valueOf()}` : v;
  }, 2);
  return text.replace(/"\\u0000int:(-?\d+)"/g, '$1');
}
