// dom: build elements. Text goes in with textContent only, never as HTML
// (tests/unit/test_web.mjs fails the build on any HTML sink in clients/web).

// h('a', {href: '#/', class: 'nav', on: {click: fn}, dataset: {id: 3}}, 'text', child...)
// Children: strings and numbers become text nodes; null/undefined/false are
// skipped; arrays are flattened.  Attribute names starting with "on" and
// "style" are refused: listeners go through `on`, looks through classes
// (the CSP forbids inline script and style).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    } else if (k === 'class') {
      el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') {
      el[k] = v;
    } else if (/^on/i.test(k) || k === 'style' || k === 'srcdoc') {
      throw new Error('dom.h: attribute ' + k + ' is not allowed');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Removes every child of el, then appends children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
