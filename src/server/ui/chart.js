// A small time-series chart on a canvas, our own: lines (filled or not) per series on a left axis, a
// secondary right axis (an error rate), coloured bands with labels (phases), vertical markers (a replay's
// position), a hover read-out (also by keyboard: focus the chart, arrows move, Esc leaves) and a legend whose
// buttons show and hide series. Times on the axis and in the read-out are the browser's local time.
//
//   const c = new TimeChart(parent, {height: 240, label: 'Items per second', yFormat: compact});
//   c.set({xs: [ms...], step: 1000, series: [{name: 'Spans/s', color: '--c-spans', values: [...], fill: true},
//          {name: 'Error rate', color: '--c-errors', values: [...], axis: 'y2'}],
//          bands: [{name: 'failure', start: ms, end: ms}], markers: [{at: ms, label: 'now'}]});
//
// Colours are CSS custom properties (--c-spans ...), so the chart follows the page's light or dark scheme.

import { h } from './dom.js';
import { compact, percent, localTime } from './format.js';

const X_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
  .map((s) => s * 1000);

function niceScale(max, ticks = 4) {
  if (!(max > 0)) max = 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  return { step, max: Math.ceil(max / step - 1e-9) * step };
}

export class TimeChart {
  constructor(parent, options = {}) {
    this.options = {
      height: 240, label: 'Chart', yFormat: compact, y2Format: (v) => percent(v, v < 0.1 ? 1 : 0),
      valueFormat: null, y2ValueFormat: (v) => percent(v, 2), y2Min: 0.01, legend: true, ...options,
    };
    this.data = { xs: [], series: [], bands: [], markers: [] };
    this.hover = null;
    this.canvas = h('canvas', { role: 'img', tabindex: '0', 'aria-label': this.options.label });
    this.tip = h('div', { class: 'chart-tip', hidden: true, 'aria-hidden': 'true' });
    this.legend = h('div', { class: 'chart-legend' });
    this.wrap = h('div', { class: 'chart' },
      h('div', { class: 'chart-canvas', style: { height: `${this.options.height}px` } }, this.canvas, this.tip),
      this.options.legend ? this.legend : null);
    parent.append(this.wrap);

    this.canvas.addEventListener('mousemove', (e) => this.hoverAt(e.offsetX));
    this.canvas.addEventListener('mouseleave', () => this.setHover(null));
    this.canvas.addEventListener('blur', () => this.setHover(null));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.resizer = new ResizeObserver(() => this.draw());
    this.resizer.observe(this.wrap);
    this.scheme = matchMedia('(prefers-color-scheme: dark)');
    this.onScheme = () => this.draw();
    this.scheme.addEventListener('change', this.onScheme);
  }

  destroy() {
    this.resizer.disconnect();
    this.scheme.removeEventListener('change', this.onScheme);
    this.wrap.remove();
  }

  set(data) {
    const hidden = new Set(this.data.series.filter((s) => s.hidden).map((s) => s.name));
    this.data = { xs: [], series: [], bands: [], markers: [], ...data };
    for (const s of this.data.series) if (hidden.has(s.name)) s.hidden = true;
    if (this.hover !== null && this.hover >= this.data.xs.length) this.hover = null;
    this.renderLegend();
    this.draw();
  }

  setMarkers(markers) {
    this.data.markers = markers || [];
    this.draw();
  }

  color(name) {
    if (!name || !name.startsWith('--')) return name || '#888';
    return getComputedStyle(this.wrap).getPropertyValue(name).trim() || '#888';
  }

  renderLegend() {
    if (!this.options.legend) return;
    // Only when the series or bands change: a legend button keeps its focus through the updates.
    const key = JSON.stringify([this.data.series.map((s) => [s.name, s.color, s.axis]), this.data.bands.map((b) => b.name)]);
    if (key === this.legendKey) {
      [...this.legend.querySelectorAll('.legend-item')].forEach((b, i) => {
        if (this.data.series[i]) b.setAttribute('aria-pressed', String(!this.data.series[i].hidden));
      });
      return;
    }
    this.legendKey = key;
    this.legend.replaceChildren();
    for (const s of this.data.series) {
      const b = h('button', { type: 'button', class: 'legend-item', 'aria-pressed': String(!s.hidden),
        title: `Show or hide ${s.name}` },
      h('span', { class: `swatch${s.axis === 'y2' ? ' swatch-line' : ''}`, style: { background: this.color(s.color) } }),
      s.name);
      const index = this.legend.children.length;
      b.addEventListener('click', () => {
        const cur = this.data.series[index];
        if (!cur) return;
        cur.hidden = !cur.hidden;
        b.setAttribute('aria-pressed', String(!cur.hidden));
        this.draw();
      });
      this.legend.append(b);
    }
    this.data.bands.forEach((band, i) => {
      this.legend.append(h('span', { class: 'legend-band' },
        h('span', { class: 'swatch', style: { background: this.color(`--band-${i % 6}`) } }), band.name));
    });
  }

  // The x range: the data's, widened to the bands and markers.
  range() {
    const { xs, step = 0 } = this.data;
    let lo = this.data.xMin ?? (xs.length ? xs[0] : null);
    let hi = this.data.xMax ?? (xs.length ? xs[xs.length - 1] + step : null);
    if (lo === null) {
      const times = [...this.data.bands.flatMap((b) => [b.start, b.end]), ...this.data.markers.map((m) => m.at)]
        .filter((t) => Number.isFinite(t));
      if (!times.length) return null;
      lo = Math.min(...times);
      hi = Math.max(...times);
    }
    if (hi <= lo) hi = lo + 1000;
    if (xs.length && this.data.xMin === undefined && this.data.bands.length) {
      // Whole phases around the data (a seed's first phase starts before its first arrival), but never so
      // wide that the data shrinks: at most a quarter of its span on either side.
      const span = hi - lo;
      lo = Math.max(Math.min(lo, ...this.data.bands.map((b) => b.start)), lo - span / 4);
      hi = Math.min(Math.max(hi, ...this.data.bands.map((b) => b.end ?? hi)), hi + span / 4);
    }
    return { lo, hi };
  }

  layout() {
    const w = this.canvas.clientWidth;
    const hgt = this.canvas.clientHeight;
    const hasY2 = this.data.series.some((s) => s.axis === 'y2' && !s.hidden);
    const pad = { l: 52, r: hasY2 ? 48 : 14, t: this.data.bands.length ? 20 : 10, b: 24 };
    return { w, h: hgt, pad, pw: Math.max(10, w - pad.l - pad.r), ph: Math.max(10, hgt - pad.t - pad.b) };
  }

  draw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.paint();
    });
  }

  paint() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const L = this.layout();
    if (!L.w || !L.h) return;
    if (c.width !== Math.round(L.w * dpr) || c.height !== Math.round(L.h * dpr)) {
      c.width = Math.round(L.w * dpr);
      c.height = Math.round(L.h * dpr);
    }
    const ctx = c.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, L.w, L.h);
    const fg = this.color('--fg');
    const muted = this.color('--muted');
    const grid = this.color('--chart-grid');
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    const r = this.range();
    if (!r) {
      ctx.fillStyle = muted;
      ctx.textAlign = 'center';
      ctx.fillText(this.options.emptyText || 'No data', L.w / 2, L.h / 2);
      this.scale = null;
      return;
    }
    const { xs, step = 0 } = this.data;
    const X = (t) => L.pad.l + ((t - r.lo) / (r.hi - r.lo)) * L.pw;
    const visible = this.data.series.filter((s) => !s.hidden);
    const maxOf = (axis) => Math.max(0, ...visible.filter((s) => (s.axis || 'y') === axis)
      .flatMap((s) => s.values.filter((v) => Number.isFinite(v))));
    const y1 = niceScale(maxOf('y'));
    const y2 = niceScale(Math.max(maxOf('y2'), this.options.y2Min), 4);
    const Y = (v, s = y1) => L.pad.t + L.ph - (v / s.max) * L.ph;
    this.scale = { X, r, L };

    // Phase bands and their labels.
    this.data.bands.forEach((band, i) => {
      const x0 = Math.max(L.pad.l, X(band.start));
      const x1 = Math.min(L.pad.l + L.pw, X(band.end ?? r.hi));
      if (x1 <= x0) return;
      const col = this.color(`--band-${i % 6}`);
      ctx.globalAlpha = 0.16;
      ctx.fillStyle = col;
      ctx.fillRect(x0, L.pad.t, x1 - x0, L.ph);
      ctx.globalAlpha = 1;
      ctx.fillRect(x0, L.pad.t - 4, x1 - x0, 3);
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, 0, x1 - x0, L.pad.t);
      ctx.clip();
      ctx.fillStyle = fg;
      ctx.textAlign = 'left';
      ctx.fillText(band.name, x0 + 3, L.pad.t - 11);
      ctx.restore();
    });

    // Grid and the left axis.
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.fillStyle = muted;
    ctx.textAlign = 'right';
    for (let v = 0; v <= y1.max + 1e-9; v += y1.step) {
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(L.pad.l, y);
      ctx.lineTo(L.pad.l + L.pw, y);
      ctx.stroke();
      ctx.fillText(this.options.yFormat(v), L.pad.l - 6, y);
    }
    if (visible.some((s) => s.axis === 'y2')) {
      ctx.textAlign = 'left';
      ctx.fillStyle = this.color(visible.find((s) => s.axis === 'y2').color);
      for (let v = 0; v <= y2.max + 1e-9; v += y2.step) ctx.fillText(this.options.y2Format(v), L.pad.l + L.pw + 6, Y(v, y2));
    }

    // The time axis, ticks on round local times.
    const span = r.hi - r.lo;
    const xStep = X_STEPS.find((s) => (s / span) * L.pw >= 80) || X_STEPS[X_STEPS.length - 1];
    const off = new Date(r.lo).getTimezoneOffset() * 60000;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillStyle = muted;
    let lastDay = '';
    for (let t = Math.ceil((r.lo - off) / xStep) * xStep + off; t <= r.hi; t += xStep) {
      const x = Math.round(X(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, L.pad.t);
      ctx.lineTo(x, L.pad.t + L.ph + 4);
      ctx.stroke();
      let label = localTime(t, { date: false });
      if (xStep >= 60000) label = label.slice(0, 5);
      const day = localTime(t).slice(0, 10);
      if (span > 86400000 && day !== lastDay) label = `${day.slice(5)} ${label}`;
      lastDay = day;
      ctx.fillText(label, x, L.pad.t + L.ph + 6);
    }
    ctx.textBaseline = 'middle';

    // The series.
    for (const s of visible) {
      const scale = s.axis === 'y2' ? y2 : y1;
      const col = this.color(s.color);
      const pts = [];
      for (let i = 0; i < xs.length; i++) {
        const v = s.values[i];
        if (!Number.isFinite(v)) {
          pts.push(null);
          continue;
        }
        const y = Y(v, scale);
        if (step) pts.push([X(xs[i]), y], [X(xs[i] + step), y]);
        else pts.push([X(xs[i]), y]);
      }
      const runs = [];
      let run = [];
      for (const p of pts) {
        if (p) run.push(p);
        else if (run.length) {
          runs.push(run);
          run = [];
        }
      }
      if (run.length) runs.push(run);
      for (const line of runs) {
        if (s.fill) {
          ctx.globalAlpha = 0.14;
          ctx.fillStyle = col;
          ctx.beginPath();
          ctx.moveTo(line[0][0], Y(0));
          for (const [x, y] of line) ctx.lineTo(x, y);
          ctx.lineTo(line[line.length - 1][0], Y(0));
          ctx.closePath();
          ctx.fill();
          ctx.globalAlpha = 1;
        }
        ctx.strokeStyle = col;
        ctx.lineWidth = s.axis === 'y2' ? 1.5 : 1.75;
        ctx.setLineDash(s.dash || (s.axis === 'y2' ? [5, 3] : []));
        ctx.beginPath();
        line.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        if (line.length === 1) ctx.arc(line[0][0], line[0][1], 2, 0, Math.PI * 2);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }

    // Markers.
    for (const m of this.data.markers) {
      if (!Number.isFinite(m.at) || m.at < r.lo || m.at > r.hi) continue;
      const x = Math.round(X(m.at)) + 0.5;
      ctx.strokeStyle = this.color(m.color || '--accent');
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, L.pad.t);
      ctx.lineTo(x, L.pad.t + L.ph);
      ctx.stroke();
      if (m.label) {
        const tw = ctx.measureText(m.label).width + 8;
        const lx = Math.min(Math.max(x - tw / 2, L.pad.l), L.pad.l + L.pw - tw);
        ctx.fillStyle = this.color(m.color || '--accent');
        ctx.fillRect(lx, L.pad.t + 2, tw, 15);
        ctx.fillStyle = this.color('--accent-fg');
        ctx.textAlign = 'left';
        ctx.fillText(m.label, lx + 4, L.pad.t + 10);
      }
    }

    // The hovered point.
    if (this.hover !== null && xs.length) {
      const i = this.hover;
      const x = X(xs[i] + step / 2);
      ctx.strokeStyle = fg;
      ctx.globalAlpha = 0.45;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, L.pad.t);
      ctx.lineTo(Math.round(x) + 0.5, L.pad.t + L.ph);
      ctx.stroke();
      ctx.globalAlpha = 1;
      for (const s of visible) {
        const v = s.values[i];
        if (!Number.isFinite(v)) continue;
        ctx.fillStyle = this.color(s.color);
        ctx.beginPath();
        ctx.arc(x, Y(v, s.axis === 'y2' ? y2 : y1), 3, 0, Math.PI * 2);
        ctx.fill();
      }
    }
  }

  hoverAt(px) {
    if (!this.scale || !this.data.xs.length) return;
    const { r, L } = this.scale;
    const t = r.lo + ((px - L.pad.l) / L.pw) * (r.hi - r.lo);
    const { xs, step = 0 } = this.data;
    let i;
    if (step) i = Math.floor((t - xs[0]) / step);
    else {
      let lo = 0;
      let hi = xs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (xs[mid] < t) lo = mid + 1;
        else hi = mid;
      }
      i = lo > 0 && t - xs[lo - 1] < xs[lo] - t ? lo - 1 : lo;
    }
    this.setHover(Math.max(0, Math.min(xs.length - 1, i)));
  }

  key(e) {
    const n = this.data.xs.length;
    if (!n) return;
    const big = Math.max(1, Math.round(n / 20));
    const moves = { ArrowLeft: -1, ArrowRight: 1, PageUp: -big, PageDown: big };
    if (e.key in moves) {
      this.setHover(Math.max(0, Math.min(n - 1, (this.hover ?? (moves[e.key] > 0 ? -1 : n)) + moves[e.key])));
    } else if (e.key === 'Home') this.setHover(0);
    else if (e.key === 'End') this.setHover(n - 1);
    else if (e.key === 'Escape') this.setHover(null);
    else return;
    e.preventDefault();
  }

  setHover(i) {
    if (i === this.hover) return;
    this.hover = i;
    this.draw();
    if (i === null) {
      this.tip.hidden = true;
      return;
    }
    const { xs, step = 0 } = this.data;
    const t = xs[i];
    const withMs = step > 0 && step < 1000;
    const when = step >= 1000
      ? `${localTime(t)} – ${localTime(t + step, { date: false })}`
      : localTime(t, { millis: withMs });
    const rows = this.data.series.filter((s) => !s.hidden).map((s) => {
      const v = s.values[i];
      const fmt = s.axis === 'y2' ? this.options.y2ValueFormat : (s.format || this.options.valueFormat || this.options.yFormat);
      return h('div', {}, h('span', { class: 'swatch', style: { background: this.color(s.color) } }),
        `${s.name}: `, h('b', {}, Number.isFinite(v) ? fmt(v) : '—'));
    });
    const mid = t + step / 2;
    const phases = this.data.bands.filter((b) => b.start <= mid && mid < (b.end ?? Infinity)).map((b) => b.name);
    this.tip.replaceChildren(h('div', { class: 'tip-time' }, when), ...rows);
    if (phases.length) this.tip.append(h('div', { class: 'tip-phase' }, `phase: ${phases.join(', ')}`));
    this.tip.hidden = false;
    if (this.scale) {
      const x = this.scale.X(mid);
      const w = this.tip.offsetWidth;
      const left = x + 14 + w > this.scale.L.w ? x - 14 - w : x + 14;
      this.tip.style.left = `${Math.max(0, left)}px`;
      this.tip.style.top = `${this.scale.L.pad.t + 4}px`;
    }
  }
}
