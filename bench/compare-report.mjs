// compare-report.mjs - number crunching for bench/compare.sh (node, no dependencies).
//
//   node compare-report.mjs hyperfine JSON            -> "id runs mean stddev min max cpu" per command
//   node compare-report.mjs merge OUT JSON...         -> one hyperfine JSON with the results of all JSONs
//   node compare-report.mjs loop ID TIMES_FILE        -> same line, from "real user sys" lines (no hyperfine)
//   node compare-report.mjs pair INPUTS ESB PB OUT    -> per-input-file size comparison (TSV) + summary
//   node compare-report.mjs table RESULTS_TSV         -> Markdown table on stdout
//
// Size TSVs are "relpath<TAB>bytes<TAB>gzip9bytes" as written by compare.sh.
import { readFileSync, writeFileSync } from 'node:fs';

const [cmd, ...args] = process.argv.slice(2);
const fix = x => (x === null || x === undefined || Number.isNaN(x) ? '-' : (+x).toFixed(4));
const lines = f => readFileSync(f, 'utf8').split('\n').filter(l => l.length > 0);

function stddev(xs) {
  if (xs.length < 2) return NaN;
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

if (cmd === 'hyperfine') {
  for (const r of JSON.parse(readFileSync(args[0], 'utf8')).results) {
    console.log([r.command, r.times.length, fix(r.mean), fix(r.stddev ?? NaN), fix(r.min), fix(r.max),
      fix(r.user + r.system)].join(' '));
  }
} else if (cmd === 'merge') {
  // compare.sh runs hyperfine once per command (so one failing command cannot stop the others)
  const [out, ...files] = args;
  const results = files.flatMap(f => JSON.parse(readFileSync(f, 'utf8')).results);
  writeFileSync(out, JSON.stringify({ results }, null, 2) + '\n');
} else if (cmd === 'loop') {
  const rows = lines(args[1]).map(l => l.trim().split(/\s+/).map(Number));
  const real = rows.map(r => r[0]);
  const mean = real.reduce((s, x) => s + x, 0) / real.length;
  const cpu = rows.reduce((s, r) => s + r[1] + r[2], 0) / rows.length;
  console.log([args[0], real.length, fix(mean), fix(stddev(real)), fix(Math.min(...real)),
    fix(Math.max(...real)), fix(cpu)].join(' '));
} else if (cmd === 'pair') {
  pair(...args);
} else if (cmd === 'table') {
  table(...args);
} else {
  console.error(`compare-report.mjs: unknown command ${cmd}`);
  process.exit(2);
}

// Pair every input with esbuild's output (same relative path, TS -> .js) and prebake's
// ([dir]/[name]-[hash][ext]; when several names fit, the shortest one, since hashes have a
// fixed width and "foo-bar-<hash>.js" must not be taken for "foo.js").
function pair(inputsFile, esbTsv, pbTsv, outTsv) {
  const load = f => new Map(lines(f).map(l => { const [p, b, g] = l.split('\t'); return [p, { b: +b, g: +g }]; }));
  const esb = load(esbTsv), pb = load(pbTsv);
  const split = rel => { const i = rel.lastIndexOf('/'); return i < 0 ? ['', rel] : [rel.slice(0, i), rel.slice(i + 1)]; };
  const byDir = new Map();
  for (const rel of pb.keys()) {
    const [d, b] = split(rel);
    if (!byDir.has(d)) byDir.set(d, []);
    byDir.get(d).push(b);
  }
  const esc = s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const used = new Set(), rows = [], missEsb = [], missPb = [];
  for (const input of lines(inputsFile)) {
    const [dir, base] = split(input);
    const ext = base.endsWith('.css') ? '.css' : '.js';
    const stem = base.replace(/\.(tsx?|jsx?|mjs|cjs|css)$/, '');
    const join = b => (dir ? `${dir}/${b}` : b);
    const e = esb.get(join(stem + ext));
    const re = new RegExp(`^${esc(stem)}-[A-Za-z0-9_-]+${esc(ext)}$`);
    const cand = (byDir.get(dir) || []).filter(b => re.test(b) && !used.has(join(b)))
      .sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
    const pRel = cand.length ? join(cand[0]) : null;
    if (pRel) used.add(pRel);
    if (!e) missEsb.push(input);
    if (!pRel) missPb.push(input);
    rows.push({ input, pRel, e, p: pRel ? pb.get(pRel) : undefined });
  }
  const out = ['input\tprebake_output\tesbuild_bytes\tprebake_bytes\tesbuild_gzip\tprebake_gzip\tgzip_ratio'];
  for (const r of rows) {
    out.push([r.input, r.pRel ?? '-', r.e?.b ?? '-', r.p?.b ?? '-', r.e?.g ?? '-', r.p?.g ?? '-',
      r.e && r.p ? (r.p.g / r.e.g).toFixed(3) : '-'].join('\t'));
  }
  writeFileSync(outTsv, out.join('\n') + '\n');

  const both = rows.filter(r => r.e && r.p);
  console.log(`  per-file pairing: ${both.length}/${rows.length} inputs have both outputs` +
    (missEsb.length ? `; no esbuild output for ${missEsb.length} (e.g. ${missEsb[0]})` : '') +
    (missPb.length ? `; no prebake output named [dir]/[name]-[hash][ext] for ${missPb.length} (e.g. ${missPb[0]})` : '') +
    (pb.size > used.size ? `; ${pb.size - used.size} prebake JS/CSS outputs match no input (e.g. ${[...pb.keys()].find(k => !used.has(k))})` : ''));
  if (!both.length) return;
  const diff = [...both].sort((a, b) => Math.abs(b.p.g - b.e.g) - Math.abs(a.p.g - a.e.g)).slice(0, 5);
  console.log('  largest per-file gzip differences (prebake - esbuild):');
  for (const r of diff) {
    console.log(`    ${(r.p.g - r.e.g >= 0 ? '+' : '') + (r.p.g - r.e.g)} B  ${r.input}  (${r.e.g} -> ${r.p.g}, x${(r.p.g / r.e.g).toFixed(2)})`);
  }
  // A file one tool shrinks to a fraction of the other's usually means different semantics
  // (e.g. process.env.NODE_ENV substituted, code dropped), not a better minifier.
  const odd = both.filter(r => r.e.g >= 200 && (r.p.g / r.e.g < 0.5 || r.p.g / r.e.g > 2));
  if (odd.length) {
    console.log(`  WARNING: ${odd.length} file(s) differ by more than 2x in gzip size; check they do the same work:`);
    for (const r of odd.slice(0, 10)) console.log(`    ${r.input}: esbuild ${r.e.g} B, prebake ${r.p.g} B`);
  }
}

function table(tsvFile) {
  const [head, ...rows] = lines(tsvFile).map(l => l.split('\t'));
  const col = name => head.indexOf(name);
  const v = (r, name) => (col(name) < 0 ? '-' : r[col(name)] ?? '-');
  const kib = x => (x === '-' ? '-' : (Number(x) / 1024).toFixed(1));
  const base = p => p.slice(p.lastIndexOf('/') + 1);
  // time cell of one tool: mean ± stddev, or why there is none (failed runs name their log,
  // which compare.sh writes beside table.md)
  const t = (r, tool) => {
    const m = v(r, `${tool}_mean_s`), s = v(r, `${tool}_stddev_s`), st = v(r, `${tool}_status`);
    if (st === 'failed') return `**failed** (log: \`${base(v(r, `${tool}_log`))}\`)`;
    if (st === 'failed-timing') return `**failed in the timed runs** (log: \`${base(v(r, `${tool}_log`))}\`)`;
    return m === '-' ? 'skipped' : `${(+m).toFixed(3)} ± ${s === '-' ? '?' : (+s).toFixed(3)}`;
  };
  const inputs = r => (v(r, 'kind') === 'bundle'
    ? `entry \`${v(r, 'entries')}\`; ${v(r, 'inputs')} sources in its dir`
    : `${v(r, 'inputs')} + ${v(r, 'static_inputs')}`);
  const ratio = x => (x === '-' ? '-' : `**${(+x).toFixed(2)}**`);
  const md = [
    '| workload | inputs (compiled + static) | outputs prebake / esbuild | prebake s | esbuild s | time ratio | prebake gzip KiB | esbuild gzip KiB | gzip ratio | prebake KiB | esbuild KiB | raw ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(r => `| ${v(r, 'workload')} | ${inputs(r)} | ` +
      `${v(r, 'prebake_outputs')} / ${v(r, 'esbuild_outputs')} | ${t(r, 'prebake')} | ` +
      `${t(r, 'esbuild')} | ${ratio(v(r, 'time_ratio'))} | ` +
      `${kib(v(r, 'prebake_gzip'))} | ${kib(v(r, 'esbuild_gzip'))} | ${ratio(v(r, 'gzip_ratio'))} | ` +
      `${kib(v(r, 'prebake_bytes'))} | ${kib(v(r, 'esbuild_bytes'))} | ` +
      `${v(r, 'raw_ratio') === '-' ? '-' : (+v(r, 'raw_ratio')).toFixed(2)} |`),
  ];
  console.log(md.join('\n'));
}
