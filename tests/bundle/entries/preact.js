// preact: build a vnode tree with h/createElement and render it to an HTML
// string by walking the vnodes ourselves (no DOM in node). Hooks are only
// checked for existence: they need preact's renderer to run.
import { cloneElement, Component, createContext, createElement, createRef, Fragment, h, isValidElement, options, toChildArray } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';

const VOID = new Set(['br', 'hr', 'img', 'input', 'meta', 'link']);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const styleToCss = (st) =>
  Object.entries(st)
    .map(([k, val]) => `${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}:${typeof val === 'number' ? val + 'px' : val}`)
    .join(';');

function render(vnode) {
  if (vnode == null || typeof vnode === 'boolean') return '';
  if (typeof vnode === 'string' || typeof vnode === 'number') return esc(vnode);
  if (Array.isArray(vnode)) return vnode.map(render).join('');
  const { type, props } = vnode;
  if (type === Fragment) return render(props.children);
  if (typeof type === 'function') {
    if (type.prototype && typeof type.prototype.render === 'function') {
      const inst = new type(props);
      inst.props = props;
      return render(inst.render(inst.props, inst.state));
    }
    return render(type(props));
  }
  let attrs = '';
  for (const [k, val] of Object.entries(props)) {
    if (k === 'children' || val == null || val === false || typeof val === 'function') continue;
    const name = k === 'className' ? 'class' : k;
    if (val === true) attrs += ` ${name}`;
    else if (k === 'style' && typeof val === 'object') attrs += ` style="${esc(styleToCss(val))}"`;
    else attrs += ` ${name}="${esc(val)}"`;
  }
  if (VOID.has(type)) return `<${type}${attrs}>`;
  return `<${type}${attrs}>${render(props.children)}</${type}>`;
}

function Item({ label, done }) {
  return h('li', { class: done ? 'done' : null, 'data-label': label }, done ? h('s', null, label) : label);
}

class Counter extends Component {
  constructor(props) {
    super(props);
    this.state = { n: props.start };
  }
  render(props, state) {
    return h('output', { for: 'x' }, `${props.title}: ${state.n}`);
  }
}

function App({ items }) {
  return h(
    Fragment,
    null,
    h('h1', { className: 'title', style: { fontSize: 12, color: 'red' } }, 'Todo <& "quotes">'),
    h('ul', null, items.map((it) => h(Item, { key: it.label, ...it }))),
    createElement('input', { type: 'checkbox', checked: true, disabled: false }),
    h(Counter, { title: 'count', start: 3 }),
    [0, 1].map((i) => h('span', { key: i }, i)),
    null,
    false,
    'tail',
  );
}

const tree = h(App, { items: [{ label: 'write tests', done: true }, { label: 'ship' }, { label: 'a<b' }] });
console.log('html', render(tree));
console.log('isValidElement', isValidElement(tree), isValidElement({}));
const cloned = cloneElement(h('a', { href: '/x' }, 'link'), { href: '/y', target: '_blank' });
console.log('cloneElement', render(cloned));
console.log('toChildArray', toChildArray([1, [2, [3, null]], false, 'x']).length);
console.log('vnode shape', tree.type === App, tree.key, tree.props.items.length, typeof tree.constructor);
console.log('createRef', JSON.stringify(createRef()));
const ctx = createContext('dflt');
console.log('context', typeof ctx.Provider, typeof ctx.Consumer);
console.log('hooks', [useState, useEffect, useMemo, useCallback, useRef, useReducer, useContext].map((fn) => typeof fn).join(','));
console.log('options is an object', typeof options);
