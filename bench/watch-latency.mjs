// bench/watch-latency.mjs - the driver of bench/watch-latency.sh: edit-to-manifest latency of
// `prebake watch` beside esbuild's context.watch() and context.rebuild(), on one generated
// project, in one run.
//
// Phases, one after the other on a freshly generated copy of the same project (so no tool
// competes with another for the cores):
//   prebake.watch    `prebake watch --format json`: edit a file, then wait for the build-end
//                    line (printed after the manifest rename) of a build that started after
//                    the edit and whose release holds the edit
//   esbuild.watch    esbuild.context(...).watch(): edit, then wait for the onEnd callback,
//                    which writes the metafile by temp + rename (esbuild writes no manifest)
//   esbuild.rebuild  edit, then await context.rebuild() at once: esbuild's incremental
//                    rebuild cost without any change detection
// Each phase edits two JS leaf modules in turn, then one CSS partial, EDITS times each, with a
// unique token per edit, and checks that the token is in the entry's new output every time.
// prebake.watch then saves a file without changing it (the no-op save) and ends the watcher
// with SIGTERM. Prints a Markdown table and writes table.md and samples.json to --results.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const USAGE = `usage: node bench/watch-latency.mjs --outroot DIR --results DIR
         [--prebake BIN] [--esbuild DIR] [--edits N] [--modules N] [--debounce MS]
         [--quiet MS] [--timeout MS] [--only ERE] [--keep]
  --prebake   prebake binary (needed when prebake.watch is selected)
  --esbuild   the esbuild package dir, e.g. .../node_modules/esbuild (needed for esbuild.*)
  --only      regular expression over the phases prebake.watch esbuild.watch esbuild.rebuild (default: all)
  --debounce  pass --debounce MS to prebake watch (default: prebake's own, 20 ms)
  --keep      keep the project and out dirs under --outroot
(bench/watch-latency.sh sets these from its environment; see bench/README.md)`;

const { values: opt } = parseArgs({
  options: {
    prebake: { type: 'string' }, esbuild: { type: 'string' },
    outroot: { type: 'string' }, results: { type: 'string' },
    edits: { type: 'string', default: '40' }, modules: { type: 'string', default: '1000' },
    debounce: { type: 'string' }, quiet: { type: 'string', default: '150' },
    timeout: { type: 'string', default: '10000' }, only: { type: 'string', default: '.' },
    keep: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) { console.log(USAGE); process.exit(0); }
function usageError(msg) { console.error(`watch-latency: ${msg}\n${USAGE}`); process.exit(2); }
function intOpt(name, min) {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < min) usageError(`--${name} must be an integer >= ${min} (got '${opt[name]}')`);
  return v;
}
if (!opt.outroot || !opt.results) usageError('--outroot and --results are required');
const EDITS = intOpt('edits', 1), MODULES = intOpt('modules', 60), QUIET_MS = intOpt('quiet', 0);
const TIMEOUT_MS = intOpt('timeout', 100);
const DEBOUNCE = opt.debounce === undefined ? undefined : intOpt('debounce', 0);
const PHASES = ['prebake.watch', 'esbuild.watch', 'esbuild.rebuild'];
const ONLY = new RegExp(opt.only);
const SELECTED = PHASES.filter((p) => ONLY.test(p));
if (!SELECTED.length) usageError(`--only '${opt.only}' selects none of ${PHASES.join(' ')}`);
if (SELECTED.includes('prebake.watch') && !opt.prebake) usageError('--prebake is required for prebake.watch');
if (SELECTED.some((p) => p.startsWith('esbuild.')) && !opt.esbuild) usageError('--esbuild is required for esbuild.*');
const OUTROOT = path.resolve(opt.outroot), RESULTS = path.resolve(opt.results);
const PROJECT = path.join(OUTROOT, 'project');   // cwd of every tool; sources in src/, outputs in out/
const SRC = path.join(PROJECT, 'src'), OUT = path.join(PROJECT, 'out');
const TARGET = { p50: 50, p95: 100 };            // ms, from the issue: prebake watch on these machines
const NOOP_WAIT_MS = 1000;                       // how long the no-op save waits for a build-start

const log = (msg) => console.error(`[watch-latency] ${msg}`);
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const ms = (x) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(1));

// ------------------------------------------------------------------ the generated project
// Deterministic: a fixed-seed PRNG, so every phase (and every run with the same MODULES) gets
// the same bytes. Layout under src/:
//   entries/{a..e}.ts              5 entry points
//   features/<entry>/mNNN.{ts,js}  one group per entry, a binary heap of imports (mNNN imports
//                                  m(2N+1) and m(2N+2)) plus random edges to later modules of the
//                                  group, to later groups and to common/
//   common/cNNN.{ts,js}            3 heaps shared between entries (each entry imports 1-2 roots)
//   shared/*.ts                    8 utility modules that most modules import from
//   styles/{a..e}.css              one stylesheet per entry: @imports 4 shared + 6 own partials
//   styles/partials/...            the partials (prebake also builds each one on its own)
// Every import edge goes from a lower to a higher position in one global order (groups
// a..e, then common, then shared), so the graph is a DAG. Every module exports one function
// that the importer calls and whose string reaches the entry's top-level side effect, so
// neither tool can tree-shake the edited literal away.
const ENTRY_NAMES = ['a', 'b', 'c', 'd', 'e'];
const COMMON_HEAPS = 3;
const ENTRY_COMMON_ROOTS = { a: [0, 1], b: [1, 2], c: [2], d: [0, 2], e: [1] };  // common heaps per entry
const SHARED_CSS = ['base', 'typography', 'layout', 'buttons'];
const OWN_CSS = ['card', 'nav', 'form', 'table', 'modal', 'grid'];
const EDIT_CSS = 'styles/partials/_buttons.css';   // the edited partial: every entry stylesheet imports it

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// shared/*.ts: hand-written utilities, and the call expressions (of n: number, giving a string)
// that a module may use for each one
const UTILS = {
  strings: {
    src: `export function fmt(label: string, value: string | number): string {
  return \`\${label}=\${value}\`;
}

export function pad(s: string, width: number, fill = ' '): string {
  return s.length >= width ? s : fill.repeat(width - s.length) + s;
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
`,
    calls: { fmt: 'fmt(LABEL, n)', pad: 'pad(String(n), 6, "0")', slug: 'slug(LABEL + " " + n)' },
  },
  math: {
    src: `export function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
`,
    calls: { clamp: 'String(clamp(n, 0, 99))', lerp: 'String(lerp(0, n, 0.25))', round2: 'round2(n / 3).toFixed(2)' },
  },
  arrays: {
    src: `export function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export function uniq<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

export function sumBy<T>(xs: readonly T[], f: (x: T) => number): number {
  let total = 0;
  for (const x of xs) total += f(x);
  return total;
}
`,
    calls: { chunk: 'String(chunk([n, n + 1, n + 2], 2).length)', uniq: 'uniq([n, 1, n % 3]).join(":")', sumBy: 'String(sumBy([n, 2, 3], (x) => x * 2))' },
  },
  dates: {
    src: `const DAY = 86_400_000;

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(ms: number, days: number): number {
  return ms + days * DAY;
}
`,
    calls: { isoDay: 'isoDay(n * 1000)', addDays: 'String(addDays(0, n))' },
  },
  dom: {
    src: `export type ClassPart = string | false | null | undefined;

export function cls(...parts: ClassPart[]): string {
  return parts.filter(Boolean).join(' ');
}

export function attr(name: string, value: string | number): string {
  return \`\${name}="\${String(value).replace(/"/g, '&quot;')}"\`;
}
`,
    calls: { cls: 'cls("item", n % 2 === 0 && "even", LABEL)', attr: 'attr("data-n", n)' },
  },
  events: {
    src: `export type Listener<T> = (value: T) => void;

export interface Emitter<T> {
  on(listener: Listener<T>): () => void;
  emit(value: T): number;
}

export function createEmitter<T>(): Emitter<T> {
  const listeners = new Set<Listener<T>>();
  return {
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(value) {
      for (const l of listeners) l(value);
      return listeners.size;
    },
  };
}
`,
    calls: { createEmitter: 'String(createEmitter().emit(n))' },
  },
  cache: {
    src: `const store = new Map<string, string>();

export function cached(key: string, make: () => string): string {
  let v = store.get(key);
  if (v === undefined) {
    v = make();
    store.set(key, v);
  }
  return v;
}

export function cacheSize(): number {
  return store.size;
}
`,
    calls: { cached: 'cached(LABEL + n, () => LABEL.toUpperCase())', cacheSize: 'String(cacheSize())' },
  },
  validate: {
    src: `const EMAIL = /^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$/i;

export function required(s: string): boolean {
  return s.trim().length > 0;
}

export function isEmail(s: string): boolean {
  return EMAIL.test(s);
}
`,
    calls: { required: 'String(required(LABEL))', isEmail: 'String(isEmail(LABEL + "@example.com"))' },
  },
};

function generateProject() {
  const rand = mulberry32(0x5eed0000 + MODULES);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const between = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const files = new Map();   // path relative to src -> contents

  // module ids in global order; group sizes: what is left after entries and utilities,
  // 15 % to common, the rest split between the entries' feature groups
  const rest = MODULES - ENTRY_NAMES.length - Object.keys(UTILS).length;
  const perGroup = Math.floor((rest * 0.85) / ENTRY_NAMES.length);
  const commonSize = rest - perGroup * ENTRY_NAMES.length;
  const groups = ENTRY_NAMES.map((e) => ({ name: e, dir: `features/${e}`, prefix: 'm', fn: `f${e}`, size: perGroup }));
  const common = { name: 'common', dir: 'common', prefix: 'c', fn: 'cm', size: commonSize };
  const mod = (g, i) => ({ g, i, path: `${g.dir}/${g.prefix}${String(i).padStart(3, '0')}`, fn: `${g.fn}${String(i).padStart(3, '0')}` });
  const heapOf = (i) => i % COMMON_HEAPS;           // common module i belongs to heap i % 3 ...
  const commonIndex = (h, k) => h + COMMON_HEAPS * k;  // ... at position k = floor(i / 3) in it

  const modules = [];   // mod(...) + { ext, pure, imports: [mod], utils: [[util, function]] }
  const addModule = (m, children, laterGroups) => {
    const imports = children.map((i) => mod(m.g, i)), utils = [];
    // a third of the heap's leaves import nothing at all: the edited leaves are two of those
    const pure = children.length === 0 && rand() < 0.34;
    if (!pure) {
      if (rand() < 0.3 && m.i + 1 < m.g.size) imports.push(mod(m.g, between(m.i + 1, m.g.size - 1)));
      if (laterGroups.length && rand() < 0.08) {
        const g = pick(laterGroups);
        imports.push(mod(g, between(Math.floor(g.size / 2), g.size - 1)));
      }
      if (m.g !== common && rand() < 0.35) imports.push(mod(common, between(0, common.size - 1)));
      for (const u of new Set([pick(Object.keys(UTILS)), pick(Object.keys(UTILS))])) {
        utils.push([u, pick(Object.keys(UTILS[u].calls))]);
      }
    }
    const seen = new Set();
    modules.push({ ...m, ext: rand() < 0.6 ? 'ts' : 'js', pure,
                   imports: imports.filter((x) => !seen.has(x.path) && seen.add(x.path)), utils });
  };
  groups.forEach((g, gi) => {
    for (let i = 0; i < g.size; i++) {
      const children = [2 * i + 1, 2 * i + 2].filter((c) => c < g.size);
      addModule(mod(g, i), children, groups.slice(gi + 1));
    }
  });
  for (let i = 0; i < common.size; i++) {
    const h = heapOf(i), k = Math.floor(i / COMMON_HEAPS);
    const children = [2 * k + 1, 2 * k + 2].map((c) => commonIndex(h, c)).filter((c) => c < common.size);
    // common modules import only later common modules (and utilities): the DAG holds
    addModule(mod(common, i), children, []);
  }

  for (const m of modules) files.set(`${m.path}.${m.ext}`, moduleSource(m, rand, between));
  for (const [name, u] of Object.entries(UTILS)) files.set(`shared/${name}.ts`, `// shared/${name}.ts (generated by bench/watch-latency.mjs)\n${u.src}`);

  // entries: the group's root, 1-2 common roots, and a render call at top level
  const byPath = new Map(modules.map((m) => [m.path, m]));
  const entries = ENTRY_NAMES.map((e, gi) => {
    const roots = [mod(groups[gi], 0), ...ENTRY_COMMON_ROOTS[e].map((h) => mod(common, commonIndex(h, 0)))]
      .filter((r) => byPath.has(r.path));
    const lines = [`// entries/${e}.ts (generated by bench/watch-latency.mjs)`];
    for (const r of roots) lines.push(`import { ${r.fn} } from '../${r.path}';`);
    lines.push('', `const sections: string[] = [${roots.map((r, k) => `${r.fn}(${k + 1})`).join(', ')}];`,
      `const root = document.getElementById('app-${e}');`,
      `if (root) root.textContent = sections.join('\\n');`,
      `else console.log(sections.join('\\n'));`, '', 'export const sectionCount = sections.length;', '');
    files.set(`entries/${e}.ts`, lines.join('\n'));
    return { name: e, file: `entries/${e}.ts`, roots };
  });

  // what each entry reaches (for the stats and to choose the edited leaves)
  const reach = new Map();   // module path -> Set of entry names
  for (const en of entries) {
    const stack = en.roots.map((r) => r.path);
    while (stack.length) {
      const p = stack.pop();
      const set = reach.get(p) ?? new Set();
      if (set.has(en.name)) continue;
      set.add(en.name); reach.set(p, set);
      stack.push(...byPath.get(p).imports.map((x) => x.path));
    }
  }

  // CSS: shared partials, each entry's own partials, one stylesheet per entry
  for (const name of SHARED_CSS) files.set(`styles/partials/_${name}.css`, partialSource(name, rand, between));
  for (const e of ENTRY_NAMES) {
    for (const name of OWN_CSS) files.set(`styles/partials/${e}/_${name}.css`, partialSource(`${e}-${name}`, rand, between));
    files.set(`styles/${e}.css`, [
      `/* styles/${e}.css (generated by bench/watch-latency.mjs) */`,
      ...SHARED_CSS.map((n) => `@import "./partials/_${n}.css";`),
      ...OWN_CSS.map((n) => `@import "./partials/${e}/_${n}.css";`),
      '',
      `.app-${e} { display: grid; grid-template-columns: 240px 1fr; min-height: 100vh; }`,
      `.app-${e} > header { grid-column: 1 / -1; padding: 12px 24px; border-bottom: 1px solid #e5e5e5; }`,
      '',
    ].join('\n'));
  }

  // edited JS leaves: two modules that import nothing, one .ts and one .js, in different
  // entries' groups, each reached by at least one entry
  const leaves = [];
  for (const [gi, ext] of [[0, 'ts'], [2, 'js']]) {
    const cands = modules.filter((m) => m.pure && m.g === groups[gi] && reach.has(m.path));
    const leaf = cands.find((m) => m.ext === ext) ?? cands[0];
    if (!leaf) throw new Error(`no pure leaf module in group ${groups[gi].name}: raise MODULES`);
    leaves.push({ file: `${leaf.path}.${leaf.ext}`, entry: [...reach.get(leaf.path)].sort()[0], reachedBy: [...reach.get(leaf.path)].sort() });
  }

  const jsFiles = [...files.keys()].filter((f) => /\.(ts|js)$/.test(f));
  const lineCounts = modules.map((m) => files.get(`${m.path}.${m.ext}`).split('\n').length).sort((a, b) => a - b);
  const stats = {
    jsModules: jsFiles.length,
    ts: jsFiles.filter((f) => f.endsWith('.ts')).length,
    js: jsFiles.filter((f) => f.endsWith('.js')).length,
    cssFiles: [...files.keys()].filter((f) => f.endsWith('.css')).length,
    moduleLines: { min: lineCounts[0], median: lineCounts[lineCounts.length >> 1], max: lineCounts[lineCounts.length - 1] },
    // modules of features/ and common/ that each entry reaches (without itself and shared/)
    reachPerEntry: Object.fromEntries(ENTRY_NAMES.map((e) => [e, [...reach.values()].filter((s) => s.has(e)).length])),
    unreached: modules.filter((m) => !reach.has(m.path)).length,
    bytes: [...files.values()].reduce((n, s) => n + Buffer.byteLength(s), 0),
  };
  return { files, entries, leaves, css: { file: EDIT_CSS, entry: 'a' }, stats };
}

// one module, about 20-65 lines: imports, a label, constants, 2-4 helpers, an optional interface
// and class (TypeScript annotations only in .ts), and the exported function
function moduleSource(m, rand, between) {
  const ts = m.ext === 'ts';
  const T = (s) => (ts ? s : '');
  const rel = (to) => {
    const r = path.posix.relative(path.posix.dirname(m.path), to);
    return r.startsWith('.') ? r : `./${r}`;
  };
  const L = [`// ${m.path}.${m.ext} (generated by bench/watch-latency.mjs)`];
  for (const x of m.imports) L.push(`import { ${x.fn} } from '${rel(x.path)}';`);
  const byUtil = new Map();
  for (const [u, f] of m.utils) byUtil.set(u, [...(byUtil.get(u) ?? []), f]);
  for (const [u, names] of byUtil) L.push(`import { ${names.join(', ')} } from '${rel(`shared/${u}`)}';`);
  const weights = Array.from({ length: between(3, 6) }, () => between(1, 9));
  L.push('', `const LABEL = '${m.fn}';`, `const WEIGHTS = [${weights.join(', ')}];`, `const LIMIT = ${between(50, 500)};`, '');
  const Name = m.fn[0].toUpperCase() + m.fn.slice(1);
  const withClass = rand() < 0.5;
  if (withClass && ts) {
    L.push(`export interface ${Name}Item {`, '  id: number;', '  name: string;', '  tags: string[];', '}', '');
  }
  const helpers = [];
  const nHelpers = between(2, 4);
  for (let h = 0; h < nHelpers; h++) {
    const name = `step${h}`;
    helpers.push(name);
    switch (between(0, 3)) {
      case 0: L.push(`function ${name}(n${T(': number')})${T(': number')} {`, '  let total = 0;',
        '  for (const w of WEIGHTS) total += w * n;', '  return total % LIMIT;', '}', ''); break;
      case 1: L.push(`function ${name}(n${T(': number')})${T(': number')} {`, '  if (n <= 0) return 0;',
        `  return n % 2 === 0 ? n / 2 : 3 * n + 1;`, '}', ''); break;
      case 2: L.push(`function ${name}(n${T(': number')})${T(': number')} {`,
        '  const xs = WEIGHTS.map((w, i) => (w + i) * n);', '  return xs.filter((x) => x % 3 !== 0).length;', '}', ''); break;
      default: L.push(`const ${name} = (n${T(': number')})${T(': number')} =>`, `  Math.max(0, LIMIT - n * WEIGHTS.length);`, '');
    }
  }
  if (withClass) {
    L.push(`export class ${Name}Store {`, `  ${T('readonly ')}items${T(`: ${Name}Item[]`)} = [];`, '',
      `  add(name${T(': string')})${T(`: ${Name}Item`)} {`, '    const item = { id: this.items.length, name, tags: [LABEL] };',
      '    this.items.push(item);', '    return item;', '  }', '',
      `  names()${T(': string[]')} {`, '    return this.items.map((i) => i.name);', '  }', '}', '');
  }
  L.push(`export function ${m.fn}(n${T(': number')})${T(': string')} {`,
    `  const parts${T(': string[]')} = [LABEL, ${helpers.map((h) => `String(${h}(n))`).join(', ')}];`);
  if (withClass) L.push(`  const store = new ${Name}Store();`, '  store.add(LABEL);', "  parts.push(store.names().join(','));");
  m.imports.forEach((x, k) => L.push(`  parts.push(${x.fn}(n + ${k + 1}));`));
  for (const [u, f] of m.utils) L.push(`  parts.push(${UTILS[u].calls[f]});`);
  L.push("  return parts.join('|');", '}', '');
  return L.join('\n');
}

// one partial: custom properties, 12-28 rules, a media query, and the marker rule whose
// content string the CSS edits change
function partialSource(name, rand, between) {
  const color = () => `#${Array.from({ length: 3 }, () => between(16, 240).toString(16).padStart(2, '0')).join('')}`;
  const props = [
    () => `display: ${['flex', 'grid', 'block', 'inline-flex'][between(0, 3)]}`,
    () => `padding: ${between(0, 6) * 4}px ${between(1, 8) * 4}px`,
    () => `margin: 0 0 ${between(1, 6) * 4}px`,
    () => `color: ${color()}`,
    () => `background-color: ${color()}`,
    () => `border: 1px solid ${color()}`,
    () => `border-radius: ${between(0, 4) * 2}px`,
    () => `font-size: ${+(between(12, 20) / 16).toFixed(4)}rem`,
    () => `line-height: ${(between(12, 18) / 10).toFixed(1)}`,
    () => `gap: var(--${name}-gap)`,
    () => `transition: opacity ${between(1, 4) * 50}ms ease-in-out`,
    () => `box-shadow: 0 ${between(1, 4)}px ${between(2, 12)}px rgba(0, 0, 0, 0.${between(1, 3)})`,
  ];
  const L = [`/* ${name} partial (generated by bench/watch-latency.mjs) */`,
    `:root { --${name}-accent: ${color()}; --${name}-gap: ${between(1, 6) * 4}px; }`, ''];
  const nRules = between(12, 28);
  for (let r = 0; r < nRules; r++) {
    const sel = `.${name}-${r}${['', ':hover', ' > a', '.is-active', ' + .' + name + '-' + (r + 1)][between(0, 4)]}`;
    const decls = Array.from({ length: between(2, 5) }, () => props[between(0, props.length - 1)]());
    L.push(`${sel} {`, ...decls.map((d) => `  ${d};`), '}');
  }
  L.push('', `@media (min-width: ${between(36, 80) * 16}px) {`, `  .${name}-0 { max-width: ${between(40, 80) * 16}px; margin: 0 auto; }`, '}',
    '', `.${name}-marker::after { content: "${name}"; }`, '');
  return L.join('\n');
}

function writeProject(project) {
  fs.rmSync(PROJECT, { recursive: true, force: true });
  for (const [rel, text] of project.files) {
    fs.mkdirSync(path.dirname(path.join(SRC, rel)), { recursive: true });
    fs.writeFileSync(path.join(SRC, rel), text);
  }
  fs.mkdirSync(OUT, { recursive: true });
}

// Edit i (0-based) of a phase and kind writes the file's original text with a unique token
// added to its label (JS) or to its marker's content string (CSS). Tokens have a fixed width,
// so no token is a substring of another.
function editToken(phase, kind, i) { return `wl${PHASES.indexOf(phase)}${kind[0]}${String(i).padStart(5, '0')}`; }
function editedText(original, rel, token) {
  const re = rel.endsWith('.css') ? /(content: ")([^"]*)(")/ : /(const LABEL = ')([^']*)(')/;
  if (!re.test(original)) throw new Error(`no edit marker in ${rel}`);
  return original.replace(re, (_, a, b, c) => `${a}${b} ${token}${c}`);
}

// ------------------------------------------------------------------ events
// One stream of timestamped events per tool: prebake's JSON lines, or esbuild's onStart/onEnd
// callbacks put in the same shape ({event: 'build-start' | 'build-end', ok, ...}). `t` is
// performance.now() when the line was read or the callback ran.
class EventLog {
  constructor(label) {
    this.label = label; this.events = []; this.lines = []; this.waiter = null;
    this.dead = null;          // set when the process behind the events is gone: waits fail at once
    this.stderr = () => '';    // the process's stderr so far, for error reports
  }
  push(ev, raw = JSON.stringify(ev)) {
    ev.t = performance.now();
    this.events.push(ev);
    this.lines.push(raw);
    if (this.waiter) this.waiter();
  }
  die(why) {
    this.dead = why;
    if (this.waiter) this.waiter();
  }
  // the first event at index >= from that matches pred, as [event, index]; after timeoutMs it
  // rejects, or gives [null, index] when orNull is set
  async next(from, pred, what, timeoutMs = TIMEOUT_MS, orNull = false) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (let k = from; k < this.events.length; k++) if (pred(this.events[k])) return [this.events[k], k];
      from = this.events.length;
      if (this.dead) throw new BenchError(`${this.label}: ${this.dead} while waiting for ${what}`, this);
      const left = deadline - performance.now();
      if (left <= 0) {
        if (orNull) return [null, from];
        throw new BenchError(`${this.label}: no ${what} within ${timeoutMs} ms`, this);
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
      this.waiter = null;
    }
  }
}

class BenchError extends Error {
  constructor(message, events) { super(message); this.events = events; }
}

// ------------------------------------------------------------------ output checks
// the output files of an entry: its own file, then the chunks it imports, transitively
function prebakeEntryFiles(manifest, logical) {
  const seen = new Set(), files = [];
  const visit = (name) => {
    const rec = manifest.assets?.[name];
    if (!rec || seen.has(name)) return;
    seen.add(name); files.push(rec.file);
    for (const i of rec.imports ?? []) visit(i);
  };
  visit(logical);
  return files;
}
function esbuildEntryFiles(metafile, entryPoint) {
  const outs = metafile.outputs;
  const root = Object.keys(outs).find((o) => outs[o].entryPoint === entryPoint);
  const seen = new Set(), files = [];
  const visit = (o) => {
    if (!o || seen.has(o) || !outs[o]) return;
    seen.add(o); files.push(o);
    for (const i of outs[o].imports ?? []) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(root);
  return files;
}
function filesContain(dir, files, token) {
  return files.length > 0 && files.some((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes(token));
}

// ------------------------------------------------------------------ prebake watch
async function runPrebake(project) {
  const phase = 'prebake.watch';
  const args = ['watch', '--no-config', '--root', 'src', '--out', 'out', '--format', 'json',
    ...project.entries.flatMap((e) => ['--entry', e.file]), ...(DEBOUNCE === undefined ? [] : ['--debounce', String(DEBOUNCE)])];
  const cmd = [opt.prebake, ...args].join(' ');
  log(`${phase}: (cd ${PROJECT} && ${cmd})`);
  const ev = new EventLog(phase);
  let stderr = '';
  ev.stderr = () => stderr;
  const t0 = performance.now();
  const child = spawn(opt.prebake, args, { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, t: performance.now() })));
  const closed = new Promise((resolve) => child.on('close', resolve));   // after exit, once stdout and stderr are read
  child.on('error', (e) => ev.die(`could not start ${opt.prebake}: ${e.message}`));
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      let e;
      try { e = JSON.parse(line); } catch { e = { reason: '(not json)' }; }
      // prebake names each line's kind `reason` (as build, check and cargo do); the driver's
      // events, shared with esbuild's callbacks, call it `event`.
      ev.push({ ...e, event: e.reason }, line);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => { stderr += c; });
  const fail = (msg) => new BenchError(`${phase}: ${msg}`, ev);
  let terminating = false;   // set when this script sends SIGTERM: the exit is then expected
  exited.then(({ code, signal }) => { if (!terminating) ev.die(`the watcher exited (${signal ? `signal ${signal}` : `code ${code}`})`); });

  try {
    const [watching] = await ev.next(0, (e) => e.event === 'watching', 'the watching event', Math.max(TIMEOUT_MS, 60000));
    const initial = ev.events.find((e) => e.event === 'build-end');
    if (!initial?.ok) throw fail('the initial build failed');
    log(`${phase}: watching (mode ${watching.mode}, profile ${watching.profile}); initial build ${ms(initial.duration_ms)} ms, ready after ${ms(watching.t - t0)} ms`);
    const manifestPath = path.join(OUT, 'manifest.json');
    const readManifest = () => {
      const st = fs.statSync(manifestPath);
      return { text: fs.readFileSync(manifestPath, 'utf8'), ino: st.ino };
    };
    let manifest = readManifest();

    // one edit: write, then read events until a build that started after the write ends with
    // ok, with a new manifest whose entry output holds the token; the sample is the time of
    // that build-end line. An ok build without the edit (stale) is counted and skipped.
    const measure = (rel, text, check) => editUntil(ev, rel, text,
      (start) => (e) => e.event === 'build-end' && e.build === start.build,
      (start, end, tEdit, builds) => {
        if (!end.ok) throw fail(`build ${start.build} after the edit of ${rel} failed: ${JSON.stringify(end.diagnostics ?? []).slice(0, 2000)}`);
        const now = readManifest();
        const changed = now.text !== manifest.text;
        manifest = now;
        return changed && check(JSON.parse(now.text))
          && { ms: end.t - tEdit, toStart: start.t - tEdit, build: end.duration_ms, builds, changed: end.changed };
      });
    const samples = await editLoop(phase, project, measure,
      (leaf, token) => (m) => filesContain(OUT, prebakeEntryFiles(m, `entries/${leaf.entry}.ts`), token),
      (css, token) => (m) => filesContain(OUT, prebakeEntryFiles(m, `styles/${css.entry}.css`), token));

    // no-op save: the same bytes written again (the mtime changes, the content does not)
    await sleep(QUIET_MS);
    const leafRel = project.leaves[0].file;
    const noopFrom = ev.events.length;
    const tSave = performance.now();
    fs.writeFileSync(path.join(SRC, leafRel), fs.readFileSync(path.join(SRC, leafRel)));
    const [nStart, nsi] = await ev.next(noopFrom, (e) => e.event === 'build-start', 'build-start', NOOP_WAIT_MS, true);
    const noop = { file: leafRel, waitedMs: NOOP_WAIT_MS, built: !!nStart };
    if (nStart) {
      const [nEnd] = await ev.next(nsi + 1, (e) => e.event === 'build-end' && e.build === nStart.build, `build-end of the no-op build ${nStart.build}`);
      const now = readManifest();
      Object.assign(noop, { ok: nEnd.ok, ms: nEnd.t - tSave, build: nEnd.duration_ms, changed: nEnd.changed ?? null,
                            manifestRewritten: now.ino !== manifest.ino, manifestSame: now.text === manifest.text });
    }
    log(`${phase}: no-op save: ${noop.built ? `build, build-end after ${ms(noop.ms)} ms, changed ${JSON.stringify(noop.changed)}` : `no build within ${NOOP_WAIT_MS} ms`}`);

    // SIGTERM while idle
    await sleep(QUIET_MS);
    terminating = true;
    const tKill = performance.now();
    child.kill('SIGTERM');
    let timer;
    const ex = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 5000, null); })]);
    clearTimeout(timer);
    if (!ex) throw fail('still running 5 s after SIGTERM');
    await closed;
    const term = { ms: ex.t - tKill, code: ex.code, signal: ex.signal, exitEvent: ev.events.some((e) => e.event === 'exit') };
    log(`${phase}: SIGTERM: exited after ${ms(term.ms)} ms with ${term.signal ? `signal ${term.signal}` : `code ${term.code}`}`);
    return { cmd, ready: { ms: watching.t - t0, initialBuild: initial.duration_ms, mode: watching.mode, profile: watching.profile },
             samples, noop, term };
  } finally {
    fs.writeFileSync(path.join(RESULTS, 'prebake-events.jsonl'), ev.lines.join('\n') + '\n');
    fs.writeFileSync(path.join(RESULTS, 'prebake-stderr.log'), stderr);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

// Writes one edit, then reads build-start/build-end pairs from `ev` (the end is the first event
// after the start that `endOf(start)` accepts) until `sample(start, end, tEdit, builds)` returns
// a sample; it returns false for a build that does not hold the edit yet (stale), and throws for
// a failed build.
async function editUntil(ev, rel, text, endOf, sample) {
  let k = ev.events.length, builds = 0;
  const tEdit = performance.now();
  fs.writeFileSync(path.join(SRC, rel), text);
  for (;;) {
    const [start, si] = await ev.next(k, (e) => e.event === 'build-start', `build-start after the edit of ${rel}`);
    const [end, ei] = await ev.next(si + 1, endOf(start), `build-end after the edit of ${rel}`);
    builds++; k = ei + 1;
    const got = sample(start, end, tEdit, builds);
    if (got) return got;
  }
}

// EDITS edits of the two JS leaves in turn, then EDITS edits of the CSS partial, QUIET_MS
// apart; measure(rel, text, check) times one edit. Every edit starts from the file's
// original text, so the outputs always change.
async function editLoop(phase, project, measure, jsCheck, cssCheck) {
  const samples = { js: [], css: [] };
  const originals = new Map([...project.leaves.map((l) => l.file), project.css.file].map((f) => [f, project.files.get(f)]));
  for (const kind of ['js', 'css']) {
    for (let i = 0; i < EDITS; i++) {
      await sleep(QUIET_MS);
      const token = editToken(phase, kind, i);
      const target = kind === 'js' ? project.leaves[i % project.leaves.length] : project.css;
      const text = editedText(originals.get(target.file), target.file, token);
      const check = kind === 'js' ? jsCheck(target, token) : cssCheck(target, token);
      const s = await measure(target.file, text, check);
      samples[kind].push({ file: target.file, token, ...s });
    }
    const xs = samples[kind].map((s) => s.ms);
    log(`${phase}: ${kind}: p50 ${ms(percentile(xs, 50))} ms, p95 ${ms(percentile(xs, 95))} ms over ${xs.length} edits`);
  }
  return samples;
}

// ------------------------------------------------------------------ esbuild
// The same project through one esbuild context: bundle, esm, splitting, linked maps, hashed
// names, no minification (prebake watch's dev profile does not minify either). onEnd writes
// the metafile by temp + rename, the counterpart of prebake's manifest.
function esbuildContext(esbuild, project, ev) {
  const metaPath = path.join(OUT, 'metafile.json');
  return esbuild.context({
    absWorkingDir: PROJECT,
    entryPoints: [...project.entries.map((e) => `src/${e.file}`), ...ENTRY_NAMES.map((e) => `src/styles/${e}.css`)],
    bundle: true, format: 'esm', splitting: true, outdir: 'out', outbase: 'src',
    sourcemap: 'linked', metafile: true, entryNames: '[dir]/[name]-[hash]', write: true, logLevel: 'silent',
    plugins: [{
      name: 'timestamps',
      setup(build) {
        build.onStart(() => { ev.push({ event: 'build-start' }); });
        build.onEnd((result) => {
          const ok = result.errors.length === 0;
          if (ok) {
            fs.writeFileSync(`${metaPath}.tmp`, JSON.stringify(result.metafile));
            fs.renameSync(`${metaPath}.tmp`, metaPath);
          }
          ev.push({ event: 'build-end', ok, metafile: result.metafile, errors: result.errors }, `{"event":"build-end","ok":${ok}}`);
        });
      },
    }],
  });
}
const esbuildJsCheck = (leaf, token) => (meta) => filesContain(PROJECT, esbuildEntryFiles(meta, `src/entries/${leaf.entry}.ts`), token);
const esbuildCssCheck = (css, token) => (meta) => filesContain(PROJECT, esbuildEntryFiles(meta, `src/styles/${css.entry}.css`), token);

async function runEsbuildWatch(esbuild, project) {
  const phase = 'esbuild.watch';
  const ev = new EventLog(phase);
  const t0 = performance.now();
  const ctx = await esbuildContext(esbuild, project, ev);
  try {
    await ctx.watch();
    const [initial] = await ev.next(0, (e) => e.event === 'build-end', 'initial build', Math.max(TIMEOUT_MS, 60000));
    if (!initial.ok) throw new BenchError(`${phase}: the initial build failed: ${JSON.stringify(initial.errors).slice(0, 2000)}`, ev);
    log(`${phase}: watching; initial build done after ${ms(initial.t - t0)} ms`);
    const measure = (rel, text, check) => editUntil(ev, rel, text,
      () => (e) => e.event === 'build-end',
      (start, end, tEdit, builds) => {
        if (!end.ok) throw new BenchError(`${phase}: build after the edit of ${rel} failed: ${JSON.stringify(end.errors).slice(0, 2000)}`, ev);
        return check(end.metafile) && { ms: end.t - tEdit, toStart: start.t - tEdit, build: end.t - start.t, builds };
      });
    const samples = await editLoop(phase, project, measure, esbuildJsCheck, esbuildCssCheck);
    return { ready: { ms: initial.t - t0 }, samples };
  } finally {
    await ctx.dispose();
  }
}

async function runEsbuildRebuild(esbuild, project) {
  const phase = 'esbuild.rebuild';
  const ev = new EventLog(phase);
  const t0 = performance.now();
  const ctx = await esbuildContext(esbuild, project, ev);
  try {
    await ctx.rebuild();   // rebuild() rejects when the build has errors
    const ready = { ms: performance.now() - t0 };
    log(`${phase}: initial build done after ${ms(ready.ms)} ms`);
    const measure = async (rel, text, check) => {
      const tEdit = performance.now();
      fs.writeFileSync(path.join(SRC, rel), text);
      const result = await withTimeout(ctx.rebuild(), `${phase}: rebuild after the edit of ${rel}`, ev);
      const tEnd = performance.now();
      if (!check(result.metafile)) throw new BenchError(`${phase}: the rebuild after the edit of ${rel} does not hold the edit`, ev);
      return { ms: tEnd - tEdit, build: tEnd - tEdit, builds: 1 };
    };
    const samples = await editLoop(phase, project, measure, esbuildJsCheck, esbuildCssCheck);
    return { ready, samples };
  } finally {
    await ctx.dispose();
  }
}

function withTimeout(promise, what, ev) {
  let timer;
  const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new BenchError(`${what}: no result within ${TIMEOUT_MS} ms`, ev)), TIMEOUT_MS); });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// ------------------------------------------------------------------ report
// nearest-rank percentile
function percentile(xs, p) {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}
function summary(samples) {
  if (!samples?.length) return null;
  const xs = samples.map((s) => s.ms);
  const med = (k) => percentile(samples.map((s) => s[k]).filter((x) => typeof x === 'number'), 50);
  return { p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs), n: xs.length,
           toStart50: med('toStart'), build50: med('build'), extraBuilds: samples.filter((s) => s.builds > 1).length };
}

function report(project, results, envText) {
  const S = {};
  for (const [phase, r] of Object.entries(results)) for (const kind of ['js', 'css']) S[`${phase}.${kind}`] = summary(r.samples?.[kind]);
  const kindName = { js: 'js-leaf', css: 'css' };
  const L = [];
  const st = project.stats;
  L.push(`## watch latency: edit saved -> new manifest in place (${new Date().toISOString().slice(0, 10)}, ${EDITS} edits per row)`, '');
  L.push('| tool | edit | p50 ms | p95 ms | max ms | n | p50 to build start | p50 build |', '|---|---|---:|---:|---:|---:|---:|---:|');
  for (const phase of PHASES) {
    for (const kind of ['js', 'css']) {
      const s = S[`${phase}.${kind}`];
      if (!s) continue;
      const tool = { 'prebake.watch': 'prebake watch', 'esbuild.watch': 'esbuild watch()', 'esbuild.rebuild': 'esbuild rebuild()' }[phase];
      L.push(`| ${tool} | ${kindName[kind]} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.max)} | ${s.n} | ${phase === 'esbuild.rebuild' ? '-' : ms(s.toStart50)} | ${ms(s.build50)} |`);
    }
  }
  if (results['prebake.watch']) {
    const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '-');
    L.push('', `| edit | prebake p50 / esbuild watch | p95 / esbuild watch | p50 / esbuild rebuild | p95 / esbuild rebuild | target p50 <= ${TARGET.p50} ms | target p95 <= ${TARGET.p95} ms |`,
      '|---|---:|---:|---:|---:|---|---|');
    for (const kind of ['js', 'css']) {
      const p = S[`prebake.watch.${kind}`], w = S[`esbuild.watch.${kind}`], r = S[`esbuild.rebuild.${kind}`];
      const met = (x, lim) => (x <= lim ? `met (${x.toFixed(2)})` : `**not met** (${x.toFixed(2)})`);
      L.push(`| ${kindName[kind]} | ${ratio(p.p50, w?.p50)} | ${ratio(p.p95, w?.p95)} | ${ratio(p.p50, r?.p50)} | ${ratio(p.p95, r?.p95)} | ${met(p.p50, TARGET.p50)} | ${met(p.p95, TARGET.p95)} |`);
    }
  }
  L.push('');
  L.push(`- project: ${st.jsModules} JS/TS modules (${st.ts} .ts, ${st.js} .js; ${st.moduleLines.min}-${st.moduleLines.max} lines, median ${st.moduleLines.median}), ` +
    `${ENTRY_NAMES.length} entries reaching ${Object.values(st.reachPerEntry).join(', ')} modules (plus the entry and the utilities it uses), ` +
    `${st.cssFiles} CSS files (${ENTRY_NAMES.length} entry stylesheets with 10 \`@import\`ed partials each), ${(st.bytes / 1024).toFixed(0)} KiB of sources, on ${fsName(PROJECT)}.`);
  L.push(`- js-leaf edits alternate ${project.leaves.map((l) => `\`${l.file}\` (reached by ${l.reachedBy.join(', ')})`).join(' and ')}; css edits change \`${project.css.file}\`, which all ${ENTRY_NAMES.length} entry stylesheets import. Each edit writes a new token into a string literal (fs.writeFileSync, in place), and the sample counts only once the entry's new output holds that token.`);
  L.push(`- latency = performance.now() before the write to: prebake, reading the build-end line (printed after the manifest rename); esbuild watch(), its onEnd callback after it wrote the metafile by temp + rename (esbuild writes no manifest); esbuild rebuild(), the rebuild() promise resolving (the edit, then the call at once: the incremental build alone, no change detection). ${QUIET_MS} ms of quiet before each edit.`);
  L.push(`- "to build start": to the build-start line (prebake) or onStart callback (esbuild): change detection${DEBOUNCE === 0 ? '' : ' plus the debounce window'}. prebake's latency includes its trailing debounce, ${DEBOUNCE === undefined ? 'the default 20 ms' : `--debounce ${DEBOUNCE}`}; esbuild's watch() polls (a random subset of files per scan, recently changed files on every scan). "build": prebake's duration_ms, esbuild onStart to onEnd.`);
  const extra = Object.entries(S).filter(([, s]) => s?.extraBuilds).map(([k, s]) => `${k}: ${s.extraBuilds}`);
  if (extra.length) L.push(`- edits whose first build after the write did not hold the edit (the sample waited for a later build): ${extra.join(', ')}.`);
  L.push('- both tools: bundle, esm with code splitting, linked source maps, hashed names, no minification (prebake watch\'s dev profile; esbuild gets the same), all cores. prebake also builds each partial stylesheet on its own; esbuild gets only the entry stylesheets.');
  const pw = results['prebake.watch'];
  if (pw) {
    L.push(`- prebake watch: \`${pw.cmd}\`, mode ${pw.ready.mode}, profile ${pw.ready.profile}; initial build ${ms(pw.ready.initialBuild)} ms, watching after ${ms(pw.ready.ms)} ms.`);
    const n = pw.noop;
    L.push(n.built
      ? `- no-op save (same bytes written to \`${n.file}\`): prebake built (build-end after ${ms(n.ms)} ms, build ${ms(n.build)} ms, ok ${n.ok}, changed ${JSON.stringify(n.changed)}, manifest ${n.manifestSame ? 'content unchanged' : '**content changed**'}${n.manifestRewritten ? ', file replaced' : ', file not replaced'}).`
      : `- no-op save (same bytes written to \`${n.file}\`): prebake started no build within ${n.waitedMs} ms.`);
    const t = pw.term;
    L.push(`- SIGTERM while idle: exited after ${ms(t.ms)} ms with ${t.signal ? `signal ${t.signal}` : `code ${t.code}`}${t.ms < 1000 && t.code === 0 ? '' : ' (**expected code 0 within 1 s**)'}; exit event ${t.exitEvent ? 'printed' : '**not printed**'}.`);
  }
  for (const p of ['esbuild.watch', 'esbuild.rebuild']) if (results[p]) L.push(`- ${p}: initial build ${ms(results[p].ready.ms)} ms (context creation included).`);
  const skipped = PHASES.filter((p) => !SELECTED.includes(p));
  if (skipped.length) L.push(`- **not run**: ${skipped.join(', ')} (left out by ONLY='${opt.only}').`);
  if (envText) L.push('', '```', envText.trimEnd(), '```');
  return L.join('\n') + '\n';
}

function fsName(dir) {
  try {
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 2);
    const m = mounts.filter((f) => dir === f[1] || dir.startsWith(f[1].endsWith('/') ? f[1] : `${f[1]}/`)).sort((a, b) => b[1].length - a[1].length)[0];
    return m ? `${m[2]} (${m[1]})` : 'unknown fs';
  } catch { return 'unknown fs'; }
}

// ------------------------------------------------------------------ main
async function main() {
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.mkdirSync(OUTROOT, { recursive: true });
  const project = generateProject();
  log(`project: ${project.stats.jsModules} JS/TS modules, ${project.stats.cssFiles} CSS files, reach per entry ${JSON.stringify(project.stats.reachPerEntry)}`);
  if (project.stats.unreached) throw new Error(`${project.stats.unreached} generated modules are unreached (generator bug)`);
  const esbuild = SELECTED.some((p) => p.startsWith('esbuild.')) ? createRequire(path.join(path.resolve(opt.esbuild), 'package.json'))('./') : null;
  const runners = { 'prebake.watch': () => runPrebake(project), 'esbuild.watch': () => runEsbuildWatch(esbuild, project),
                    'esbuild.rebuild': () => runEsbuildRebuild(esbuild, project) };
  const results = {};
  try {
    for (const phase of SELECTED) {
      writeProject(project);   // every phase starts from the same sources and an empty out dir
      results[phase] = await runners[phase]();
    }
  } finally {
    if (!opt.keep) fs.rmSync(PROJECT, { recursive: true, force: true });
  }
  const envFile = path.join(RESULTS, 'environment.txt');
  const table = report(project, results, fs.existsSync(envFile) ? fs.readFileSync(envFile, 'utf8') : '');
  fs.writeFileSync(path.join(RESULTS, 'table.md'), table);
  const raw = { edits: EDITS, modules: MODULES, quietMs: QUIET_MS, debounce: DEBOUNCE ?? null, esbuild: esbuild?.version ?? null,
                project: { stats: project.stats, leaves: project.leaves, css: project.css }, results };
  fs.writeFileSync(path.join(RESULTS, 'samples.json'), JSON.stringify(raw, null, 1) + '\n');
  process.stdout.write(table);
}

main().catch(async (e) => {
  if (e instanceof BenchError) {
    await sleep(200);   // the watcher was killed: let the rest of its stderr arrive
    console.error(`--- last 20 events of ${e.events.label}:\n${e.events.lines.slice(-20).join('\n') || '(none)'}`);
    const err = e.events.stderr();
    console.error(`--- stderr${err ? ' (last 4 KiB)' : ': (empty)'}${err ? `:\n${err.slice(-4096).trimEnd()}` : ''}`);
  } else {
    console.error(e.stack);
  }
  console.error(`[watch-latency] ERROR: ${e.message}`);
  process.exit(1);
});
