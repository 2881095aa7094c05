// Building DOM without innerHTML: every string becomes a text node, so nothing the API returns is ever
// parsed as markup.
//
//   h('a', {href: '#/x', class: 'link', onclick: fn, 'aria-label': 'Open'}, 'text', child, [more])

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key in el && typeof value !== 'string' && key !== 'list') el[key] = value;
      else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'hidden') el[key] = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces el's children.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (selector, root = document) => root.querySelector(selector);

let ids = 0;
export const uid = (prefix = 'id') => `${prefix}-${++ids}`;

// A labelled form field: {label, input, hint} -> <div class="field"><label for>..</label>input<small></small></div>
export function field(label, input, hint) {
  if (!input.id) input.id = uid('f');
  const parts = [h('label', { for: input.id }, label), input];
  if (hint) {
    const hintEl = h('small', { class: 'hint', id: uid('hint') }, hint);
    input.setAttribute('aria-describedby', hintEl.id);
    parts.push(hintEl);
  }
  return h('div', { class: 'field' }, parts);
}

export function checkbox(label, name, checked, hint) {
  const input = h('input', { type: 'checkbox', name, checked: !!checked, id: uid('c') });
  return h('div', { class: 'check' }, input, h('label', { for: input.id }, label),
    hint ? h('small', { class: 'hint' }, hint) : null);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

// Splits "a, b,,c" into ["a", "b", "c"].
export function list(text) {
  return String(text || '').split(',').map((s) => s.trim()).filter(Boolean);
}
