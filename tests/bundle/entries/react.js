// react + react-dom/server: renderToString of a small tree (CommonJS
// packages). Under the `browser` condition react-dom/server is
// server.browser.js, which needs TextEncoder etc. (present in node >= 20).
import {
  Children,
  createContext,
  createElement as h,
  forwardRef,
  Fragment,
  isValidElement,
  memo,
  Suspense,
  useContext,
  useId,
  useMemo,
  useReducer,
  useState,
  version,
} from 'react';
import { renderToStaticMarkup, renderToString } from 'react-dom/server';

const Theme = createContext('light');

function Counter({ start }) {
  const [n] = useState(start);
  const [m, dispatch] = useReducer((s, a) => s + a, 10);
  const doubled = useMemo(() => n * 2, [n]);
  const id = useId();
  return h(
    'div',
    { className: 'counter', 'data-id-shape': typeof id },
    h('label', { htmlFor: 'c' }, 'Count'),
    h('output', { id: 'c' }, n, ' / ', doubled, ' / ', m),
    h('button', { disabled: true, onClick: () => dispatch(1) }, '+'),
  );
}

const Themed = memo(function Themed() {
  const theme = useContext(Theme);
  return h('p', { style: { color: theme === 'dark' ? 'white' : 'black', marginTop: 4 } }, `theme=${theme}`);
});

const Input = forwardRef(function Input(props, ref) {
  return h('input', { ref, defaultValue: props.value, readOnly: true });
});

function List({ items }) {
  return h(
    'ul',
    null,
    items.map((it) => h('li', { key: it }, it)),
  );
}

function App() {
  return h(
    Fragment,
    null,
    h('h1', null, 'Hello <&> "react"'),
    h(Counter, { start: 21 }),
    h(Theme.Provider, { value: 'dark' }, h(Themed)),
    h(Themed),
    h(Input, { value: 'v' }),
    h(List, { items: ['a', 'b', 'c'] }),
    h(Suspense, { fallback: h('i', null, 'loading') }, h('span', null, 'ready')),
    h('div', { dangerouslySetInnerHTML: { __html: '<b>raw</b>' } }),
    h('svg', { viewBox: '0 0 1 1', strokeWidth: 2 }, h('circle', { r: 1 })),
  );
}

console.log('version', version);
console.log('renderToStaticMarkup', renderToStaticMarkup(h(App)));
// renderToString adds hydration markers; its useId output is deterministic.
console.log('renderToString', renderToString(h(App)));
console.log('Children.count', Children.count([h('a'), null, [h('b'), 'c']]));
console.log('isValidElement', isValidElement(h(App)), isValidElement({}));
