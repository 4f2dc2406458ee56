// lodash-es: named imports from the ESM build (many small modules).
import {
  camelCase,
  chunk,
  cloneDeep,
  debounce,
  flow,
  get,
  groupBy,
  isEqual,
  kebabCase,
  memoize,
  merge,
  partition,
  range,
  set,
  sortBy,
  template,
  throttle,
  uniqBy,
  zip,
} from 'lodash-es';

const j = (x) => JSON.stringify(x);

console.log('chunk', j(chunk(range(10), 3)));
const users = [
  { name: 'fred', age: 48 },
  { name: 'barney', age: 36 },
  { name: 'fred', age: 40 },
  { name: 'barney', age: 34 },
];
console.log('sortBy', j(sortBy(users, ['name', 'age'])));
console.log('groupBy', j(groupBy(users, 'name')));
console.log('partition', j(partition(users, (u) => u.age > 38)));
console.log('uniqBy', j(uniqBy(users, 'name')));
console.log('merge', j(merge({ a: [{ b: 2 }, { d: 4 }] }, { a: [{ c: 3 }, { e: 5 }] }, { z: { y: 1 } })));
const deep = { x: { y: [1, { z: new Date(0) }] } };
const copy = cloneDeep(deep);
console.log('cloneDeep', copy !== deep, copy.x.y[1] !== deep.x.y[1], isEqual(copy, deep), copy.x.y[1].z instanceof Date);
console.log('get/set', get(set({}, 'a[0].b.c', 4), ['a', '0', 'b', 'c']), get({}, 'missing.path', 'default'));
console.log('zip', j(zip(['a', 'b'], [1, 2], [true, false])));
console.log('case', camelCase('Foo Bar--baz_qux'), kebabCase('fooBarBaz QUX'));
console.log('template', template('hello <%= user %>! <%- html %> <% for (const n of list) { %>[<%= n %>]<% } %>')({
  user: 'fred',
  html: '<b>&"\'</b>',
  list: [1, 2],
}));
console.log('template escape/interpolate', template('${a} and <%- b %>')({ a: 'A', b: '<i>' }));
const sq = memoize((n) => n * n);
console.log('memoize', sq(4), sq(4), sq.cache.has(4));
console.log('flow', flow([(x) => x + 1, (x) => x * 10])(2));
const deb = debounce(() => {}, 10);
console.log('debounce', typeof deb, typeof deb.cancel, typeof deb.flush, typeof throttle(() => {}, 10).cancel);
deb.cancel();
