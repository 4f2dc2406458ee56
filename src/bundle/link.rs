//! The linker: from loaded modules to a plan per module and per chunk.
//!
//! ES modules are scope hoisted: their top-level bindings become bindings
//! of the chunk, with names unique across the build, and an import is
//! replaced by the binding it resolves to (through re-exports and
//! `export *`), so live bindings, cycles and the temporal dead zone behave
//! as in the module graph. `CommonJS` modules are wrapped in `__commonJS`
//! closures and run on first `require`; an ES module that is `require`d (or
//! lazily imported into an IIFE) is wrapped in `__esm`, its bindings hoisted.
//! This is esbuild's linker model (internal/linker), reduced.
//!
//! Tree shaking: a module whose package declares it free of side effects is
//! left out unless one of its exports is used; inside a module, unused
//! top-level declarations are dropped by the minifier, which is told what
//! other modules use.
//!
//! Chunks: every entry point (declared entries, and `import()` targets in
//! ESM output) reaches a set of modules; modules reached by the same set of
//! entry points form one chunk, so a module shared by several entries lands
//! in a chunk they import.
//!
//! [`link`] runs the phases in order, each a function of this module in
//! esbuild's manner (`scan_imports_and_exports`, `compute_chunks`, …);
//! those after the scan read a `Graph` and share the `Symbols` table.

#![allow(clippy::many_single_char_names)] // m, t, s, e: module, target, symbol, entry throughout

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use swc_core::atoms::Atom;
use swc_core::ecma::ast::Id;

use super::module::{
    Body, ExportFrom, Format, Import, Imported, ModuleData, ModuleId, RecordKind, Target,
};
use crate::diagnostics::{Category, Diagnostic, Label};

/// A name in the chunk, assigned once every symbol is known.
pub type SymId = usize;

/// What an identifier or expression of a module becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repl {
    Sym(SymId),
    /// `sym.prop`; called as `(0, sym.prop)()`.
    Member(SymId, Atom),
    /// The URL of an asset: a placeholder string.
    Url(ModuleId),
    /// `void 0`.
    Undefined,
    /// `{}`.
    EmptyObject,
}

/// How a module's code is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    None,
    /// `var require_x = __commonJS((exports, module) => { … })`.
    Cjs(SymId),
    /// `var init_x = __esm(() => { … })`, bindings hoisted.
    Esm(SymId),
}

/// A statement put before a module's own code.
#[derive(Debug, Clone)]
pub enum Prelude {
    /// `var import_x = __toESM(require_x()[, 1]);`, or without `interop`
    /// `var import_x = require_x();` (a TypeScript file compiled without
    /// `esModuleInterop` reads `import * as ns` as `module.exports` itself).
    ImportVar {
        var: SymId,
        require: SymId,
        node_mode: bool,
        interop: bool,
    },
    /// `init_x();`
    Init(SymId),
    /// `var x_exports = {}; __export(x_exports, { name: () => value, … });`
    Namespace {
        var: SymId,
        members: Vec<(Atom, Repl)>,
    },
}

/// What replaces a `require()` or `import()` call.
#[derive(Debug, Clone)]
pub enum CallRepl {
    /// `require_x()`
    Call(SymId),
    /// `(init_x(), __toCommonJS(x_exports))`, or without the init.
    ToCommonJs { init: Option<SymId>, ns: SymId },
    /// `{}`
    Empty,
    /// A chunk-level binding's value (`require()` of JSON).
    Value(SymId),
    /// `import("<placeholder of chunk>")`, then (`ns`) the module's own
    /// namespace object, so `import()` and `import * as` give one object;
    /// with `css`, the chunk's stylesheet is loaded alongside.
    Chunk { entry: usize, ns: bool, css: bool },
    /// `Promise.resolve().then(() => (init_x(), x_exports))`
    Inline { init: Option<SymId>, ns: SymId },
    /// `Promise.resolve().then(() => __toESM(require_x()))`
    InlineCjs { require: SymId, node_mode: bool },
}

/// Everything the emitter does to one JS module.
#[derive(Debug, Default)]
pub struct Plan {
    pub wrap: Option<Wrap>,
    /// Own top-level bindings that become chunk-level names.
    pub renames: HashMap<Id, SymId>,
    /// Imported bindings.
    pub imports: HashMap<Id, Repl>,
    /// `ns.prop` of namespace imports the linker saw through.
    pub members: HashMap<(Id, Atom), Repl>,
    /// Calls by the position of their record.
    pub calls: HashMap<u32, CallRepl>,
    /// `new URL('…', import.meta.url)` by the position of the string.
    pub urls: HashMap<u32, ModuleId>,
    /// `new URL('./worker.js', import.meta.url)`: the entry point whose
    /// chunk it names.
    pub url_chunks: HashMap<u32, usize>,
    pub prelude: Vec<Prelude>,
    /// `CommonJS` modules: `import_x` variables of their ES importers, set
    /// where the module stands in evaluation order (as Node runs it).
    pub postlude: Vec<Prelude>,
    /// Chunk-level names that other modules or the chunk's exports use: the
    /// minifier must keep them.
    pub keep: BTreeSet<SymId>,
}

impl Plan {
    /// Feeds everything the emitter reads from this plan into `h`, in a
    /// canonical order, with symbols as their final names: two plans with
    /// the same fingerprint make the emitter write the same code for the
    /// same module (`prebake watch` reuses it). Symbol ids shift whenever
    /// an earlier module gains a binding; names only change when the
    /// output does. Module and chunk ids stay raw: placeholders hold them.
    pub fn fingerprint(&self, names: &[Atom], h: &mut impl sha2::Digest) {
        let mut w = Fingerprint { h, names };
        match self.wrap {
            None => w.tag(0),
            Some(Wrap::None) => w.tag(1),
            Some(Wrap::Cjs(s)) => {
                w.tag(2);
                w.sym(s);
            }
            Some(Wrap::Esm(s)) => {
                w.tag(3);
                w.sym(s);
            }
        }
        w.sorted(self.renames.iter().map(|(id, &s)| {
            let mut k = id_bytes(id);
            sym_bytes(&mut k, s, names);
            k
        }));
        w.sorted(self.imports.iter().map(|(id, r)| {
            let mut k = id_bytes(id);
            repl_bytes(&mut k, r, names);
            k
        }));
        w.sorted(self.members.iter().map(|((id, prop), r)| {
            let mut k = id_bytes(id);
            k.extend_from_slice(prop.as_bytes());
            k.push(0);
            repl_bytes(&mut k, r, names);
            k
        }));
        w.sorted(self.calls.iter().map(|(pos, c)| {
            let mut k = pos.to_le_bytes().to_vec();
            call_bytes(&mut k, c, names);
            k
        }));
        w.sorted(self.urls.iter().map(|(pos, m)| {
            let mut k = pos.to_le_bytes().to_vec();
            k.extend_from_slice(&m.to_le_bytes());
            k
        }));
        w.sorted(self.url_chunks.iter().map(|(pos, c)| {
            let mut k = pos.to_le_bytes().to_vec();
            k.extend_from_slice(&c.to_le_bytes());
            k
        }));
        for list in [&self.prelude, &self.postlude] {
            w.len(list.len());
            for p in list {
                let mut k = Vec::new();
                prelude_bytes(&mut k, p, names);
                w.bytes(&k);
            }
        }
        // In id order, as the emitter lists them.
        w.len(self.keep.len());
        for &s in &self.keep {
            w.sym(s);
        }
    }
}

struct Fingerprint<'a, D> {
    h: &'a mut D,
    names: &'a [Atom],
}

impl<D: sha2::Digest> Fingerprint<'_, D> {
    fn tag(&mut self, t: u8) {
        self.h.update([t]);
    }

    fn len(&mut self, n: usize) {
        self.h.update(n.to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.h.update(b);
    }

    fn sym(&mut self, s: SymId) {
        let mut k = Vec::new();
        sym_bytes(&mut k, s, self.names);
        self.h.update(k);
    }

    /// A map's entries, each rendered to bytes, in sorted order.
    fn sorted(&mut self, entries: impl Iterator<Item = Vec<u8>>) {
        let mut all: Vec<Vec<u8>> = entries.collect();
        all.sort_unstable();
        self.len(all.len());
        for e in &all {
            self.bytes(e);
        }
    }
}

fn id_bytes(id: &Id) -> Vec<u8> {
    let mut k = id.0.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&id.1.as_u32().to_le_bytes());
    k
}

fn sym_bytes(k: &mut Vec<u8>, s: SymId, names: &[Atom]) {
    let name = names.get(s).map_or(&b""[..], |n| n.as_bytes());
    k.extend_from_slice(&name.len().to_le_bytes());
    k.extend_from_slice(name);
}

fn repl_bytes(k: &mut Vec<u8>, r: &Repl, names: &[Atom]) {
    match r {
        Repl::Sym(s) => {
            k.push(1);
            sym_bytes(k, *s, names);
        }
        Repl::Member(s, prop) => {
            k.push(2);
            sym_bytes(k, *s, names);
            k.extend_from_slice(prop.as_bytes());
            k.push(0);
        }
        Repl::Url(m) => {
            k.push(3);
            k.extend_from_slice(&m.to_le_bytes());
        }
        Repl::Undefined => k.push(4),
        Repl::EmptyObject => k.push(5),
    }
}

fn call_bytes(k: &mut Vec<u8>, c: &CallRepl, names: &[Atom]) {
    let opt = |k: &mut Vec<u8>, s: Option<SymId>| match s {
        Some(s) => {
            k.push(1);
            sym_bytes(k, s, names);
        }
        None => k.push(0),
    };
    match c {
        CallRepl::Call(s) => {
            k.push(1);
            sym_bytes(k, *s, names);
        }
        CallRepl::ToCommonJs { init, ns } => {
            k.push(2);
            opt(k, *init);
            sym_bytes(k, *ns, names);
        }
        CallRepl::Empty => k.push(3),
        CallRepl::Value(s) => {
            k.push(4);
            sym_bytes(k, *s, names);
        }
        CallRepl::Chunk { entry, ns, css } => {
            k.push(5);
            k.extend_from_slice(&entry.to_le_bytes());
            k.push(u8::from(*ns));
            k.push(u8::from(*css));
        }
        CallRepl::Inline { init, ns } => {
            k.push(6);
            opt(k, *init);
            sym_bytes(k, *ns, names);
        }
        CallRepl::InlineCjs { require, node_mode } => {
            k.push(7);
            sym_bytes(k, *require, names);
            k.push(u8::from(*node_mode));
        }
    }
}

fn prelude_bytes(k: &mut Vec<u8>, p: &Prelude, names: &[Atom]) {
    match p {
        Prelude::ImportVar {
            var,
            require,
            node_mode,
            interop,
        } => {
            k.push(1);
            sym_bytes(k, *var, names);
            sym_bytes(k, *require, names);
            k.push(u8::from(*node_mode));
            k.push(u8::from(*interop));
        }
        Prelude::Init(s) => {
            k.push(2);
            sym_bytes(k, *s, names);
        }
        Prelude::Namespace { var, members } => {
            k.push(3);
            sym_bytes(k, *var, names);
            k.extend_from_slice(&members.len().to_le_bytes());
            for (name, r) in members {
                k.extend_from_slice(name.as_bytes());
                k.push(0);
                repl_bytes(k, r, names);
            }
        }
    }
}

/// A chunk to emit.
#[derive(Debug, Default)]
pub struct ChunkPlan {
    /// The entry point it is for (index into `Linked::entry_points`), if
    /// any.
    pub entry: Option<usize>,
    /// Modules in evaluation order.
    pub modules: Vec<ModuleId>,
    /// Names imported from other chunks.
    pub imports: BTreeMap<usize, BTreeSet<SymId>>,
    /// Names other chunks import from this one.
    pub exports: BTreeSet<SymId>,
    /// Entry exports: public name → value.
    pub entry_exports: Vec<(Atom, Repl)>,
    /// The entry's namespace object (IIFE with a global name).
    pub entry_namespace: Option<SymId>,
    /// A `CommonJS` entry: its `require_x`, run by the chunk.
    pub entry_cjs: Option<SymId>,
    /// Chunks this one loads with `import()`.
    pub dynamic: BTreeSet<usize>,
    /// Stylesheets its entry needs, in order.
    pub css: Vec<ModuleId>,
    /// Assets its modules reference.
    pub assets: BTreeSet<ModuleId>,
}

/// The linker's result.
#[derive(Debug, Default)]
pub struct Linked {
    pub entry_points: Vec<ModuleId>,
    pub plans: Vec<Option<Plan>>,
    pub chunks: Vec<ChunkPlan>,
    /// Final name of each symbol.
    pub names: Vec<Atom>,
    /// The runtime module's helpers by name.
    pub helpers: BTreeMap<&'static str, SymId>,
    /// What will fail at run time (`ns()` of a namespace import).
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Esm,
    Iife,
}

pub struct LinkOptions {
    pub format: OutFormat,
    pub minify: bool,
    /// The runtime module's id.
    pub runtime: ModuleId,
}

/// What an import or export resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Res {
    Binding(ModuleId, Id),
    Namespace(ModuleId),
    /// A property of a `CommonJS` module's exports (`default` included).
    CjsProp(ModuleId, Atom),
    /// The whole `module.exports`, seen as a namespace.
    CjsNamespace(ModuleId),
    Asset(ModuleId),
    Undefined,
    EmptyNamespace,
    Missing,
    Ambiguous,
}

struct Linker<'a> {
    modules: &'a [ModuleData],
    diagnostics: Vec<Diagnostic>,
    /// import local → index into the module's imports.
    import_index: Vec<HashMap<Id, usize>>,
}

fn js(m: &ModuleData) -> Option<&super::module::Js> {
    match &m.body {
        Body::Js(j) => Some(j),
        _ => None,
    }
}

impl<'a> Linker<'a> {
    fn new(modules: &'a [ModuleData]) -> Linker<'a> {
        Linker {
            modules,
            diagnostics: Vec::new(),
            import_index: modules
                .iter()
                .map(|m| {
                    js(m).map_or_else(HashMap::new, |j| {
                        j.imports
                            .iter()
                            .enumerate()
                            .map(|(i, imp)| (imp.local.clone(), i))
                            .collect()
                    })
                })
                .collect(),
        }
    }

    fn target(&self, m: ModuleId, record: usize) -> Option<&Target> {
        self.modules[m].records.get(record).map(|r| &r.target)
    }

    fn resolve_import(&self, m: ModuleId, imp: &Import, stack: &mut Vec<(ModuleId, Atom)>) -> Res {
        self.resolve_record(m, imp.record, &imp.what, stack)
    }

    fn resolve_record(
        &self,
        m: ModuleId,
        record: usize,
        what: &Imported,
        stack: &mut Vec<(ModuleId, Atom)>,
    ) -> Res {
        match self.target(m, record) {
            Some(Target::Module(t)) => {
                let t = *t;
                match what {
                    Imported::Namespace => match &self.modules[t].body {
                        Body::Js(j) if j.format == Format::CommonJs => Res::CjsNamespace(t),
                        Body::Js(_) => Res::Namespace(t),
                        _ => Res::EmptyNamespace,
                    },
                    Imported::Default => self.resolve_export(t, &Atom::from("default"), stack),
                    Imported::Named(n) => self.resolve_export(t, n, stack),
                }
            }
            Some(Target::Empty) => match what {
                Imported::Namespace => Res::EmptyNamespace,
                _ => Res::Undefined,
            },
            _ => Res::Undefined,
        }
    }

    fn resolve_export(&self, m: ModuleId, name: &Atom, stack: &mut Vec<(ModuleId, Atom)>) -> Res {
        if stack.iter().any(|(sm, sn)| *sm == m && sn == name) || stack.len() > 512 {
            return Res::Missing;
        }
        let j = match &self.modules[m].body {
            Body::Js(j) => j,
            Body::Asset => {
                return if &**name == "default" {
                    Res::Asset(m)
                } else {
                    Res::Missing
                };
            }
            Body::Css | Body::Empty => return Res::Undefined,
        };
        if j.format == Format::CommonJs {
            return Res::CjsProp(m, name.clone());
        }
        stack.push((m, name.clone()));
        let res = if let Some(e) = j.exports.get(name) {
            match e {
                ExportFrom::Local(id) => match self.import_index[m].get(id) {
                    Some(&i) => self.resolve_import(m, &j.imports[i], stack),
                    None => Res::Binding(m, id.clone()),
                },
                ExportFrom::Record(r, what) => self.resolve_record(m, *r, what, stack),
            }
        } else if &**name == "default" {
            Res::Missing
        } else {
            let mut found: Vec<Res> = Vec::new();
            let mut cjs = None;
            for &s in &j.stars {
                if let Some(Target::Module(t)) = self.target(m, s) {
                    if js(&self.modules[*t]).is_some_and(|tj| tj.format == Format::CommonJs) {
                        cjs.get_or_insert(*t);
                        continue;
                    }
                    let r = self.resolve_export(*t, name, stack);
                    if !matches!(r, Res::Missing) && !found.contains(&r) {
                        found.push(r);
                    }
                }
            }
            match (found.len(), cjs) {
                (0, Some(t)) => Res::CjsProp(t, name.clone()),
                (0, None) => Res::Missing,
                (1, _) => found.pop().unwrap_or(Res::Missing),
                _ => Res::Ambiguous,
            }
        };
        stack.pop();
        res
    }

    /// Every name `m` exports (stars expanded, `default` not taken from
    /// stars, ambiguous names left out), sorted.
    fn export_names(&self, m: ModuleId, seen: &mut HashSet<ModuleId>) -> BTreeSet<Atom> {
        let mut out = BTreeSet::new();
        let Some(j) = js(&self.modules[m]) else {
            return out;
        };
        if !seen.insert(m) {
            return out;
        }
        out.extend(j.exports.keys().cloned());
        for &s in &j.stars {
            if let Some(Target::Module(t)) = self.target(m, s) {
                for n in self.export_names(*t, seen) {
                    if &*n != "default" {
                        out.insert(n);
                    }
                }
            }
        }
        seen.remove(&m);
        out
    }

    fn error(&mut self, m: ModuleId, record: usize, code: &'static str, msg: String) {
        let md = &self.modules[m];
        let mut d = Diagnostic::error(code, Category::Input, msg);
        if let (Some(r), Some(j)) = (md.records.get(record), js(md)) {
            d = d.with_label(Label::at_line_col_utf16(
                md.shown.clone(),
                j.source.clone(),
                r.line,
                r.column,
            ));
        } else {
            d = d.with_file(md.shown.clone());
        }
        self.diagnostics.push(d);
    }
}

/// The chunk-level names of the build, as the phases declare them.
#[derive(Default)]
struct Symbols {
    /// Each symbol's base name (before it is made unique) and how often
    /// the build reads it (for short names).
    base: Vec<String>,
    count: Vec<u32>,
    /// The module whose code declares each symbol.
    owner: HashMap<SymId, ModuleId>,
    /// The top-level bindings of unwrapped and `__esm` modules.
    top: HashMap<(ModuleId, Id), SymId>,
    /// `x_exports`: namespace objects the emitter builds.
    ns: HashMap<ModuleId, SymId>,
    /// `require_x` or `init_x`: a wrapped module's closure.
    wrap: HashMap<ModuleId, SymId>,
    /// `import_x` of (importer, `CommonJS` module), through `__toESM`.
    import_vars: HashMap<(ModuleId, ModuleId), SymId>,
    /// `module.exports` itself, for namespace imports of files compiled
    /// without `esModuleInterop`; by (importer, `CommonJS` module).
    raw_vars: HashMap<(ModuleId, ModuleId), SymId>,
}

impl Symbols {
    /// A new symbol, declared by module `owner`.
    fn add(&mut self, base: &str, count: u32, owner: ModuleId) -> SymId {
        self.base.push(base.to_string());
        self.count.push(count);
        let s = self.base.len() - 1;
        self.owner.insert(s, owner);
        s
    }
}

/// Entry points, and the ways other than static imports modules are
/// reached.
struct Roots {
    /// Declared entries, then `import()` targets (ESM) and workers, as
    /// found.
    entry_points: Vec<ModuleId>,
    /// `import()` targets of an IIFE build: run lazily inside its script.
    lazy: BTreeSet<ModuleId>,
    /// `import()` targets of an ESM build: entry points of their own.
    dynamic_targets: BTreeSet<ModuleId>,
    /// `require()` targets.
    required: BTreeSet<ModuleId>,
}

/// What the scan of imports and exports found.
struct Scan {
    /// The modules the build includes.
    needed: Vec<bool>,
    /// What an import resolves to, per (module, import index).
    resolved: HashMap<(ModuleId, usize), Res>,
    /// Per entry point: the names it exports, with what they resolve to.
    entry_exports: Vec<Vec<(Atom, Res)>>,
    /// Modules whose namespace is reached as a value (not only as
    /// `ns.prop`).
    as_object: BTreeSet<ModuleId>,
}

/// The graph and what the first phases found in it: what every phase
/// after the scan reads.
struct Graph<'a> {
    l: Linker<'a>,
    modules: &'a [ModuleData],
    format: OutFormat,
    runtime: ModuleId,
    entry_points: Vec<ModuleId>,
    dynamic_targets: BTreeSet<ModuleId>,
    /// Per module: `Some(true)` run in a `__commonJS` closure,
    /// `Some(false)` in an `__esm` one, `None` in order with the chunk.
    wrap: Vec<Option<bool>>,
    needed: Vec<bool>,
    resolved: HashMap<(ModuleId, usize), Res>,
}

/// Evaluation order and reach: a DFS over static edges from each entry
/// point.
struct Order {
    /// Per module: the entry points that reach it, a bit per entry point.
    reach: Vec<Vec<u64>>,
    /// Per module: its place in evaluation order (`usize::MAX`: never
    /// reached).
    index: Vec<usize>,
}

/// The chunks and which chunk holds each module.
struct Chunking {
    chunks: Vec<ChunkPlan>,
    /// Per module: its chunk (`usize::MAX`: none, an IIFE build's modules
    /// and those no entry point reaches).
    chunk_of: Vec<usize>,
    /// The included modules that some entry point reaches, in evaluation
    /// order with the runtime first.
    members: Vec<ModuleId>,
}

impl Chunking {
    /// Symbol `s`, declared in chunk `owner`, is read in chunk `user`:
    /// one imports it from the other when they differ.
    fn share(&mut self, user: usize, owner: usize, s: SymId) {
        if user != usize::MAX && owner != usize::MAX && user != owner {
            self.chunks[user]
                .imports
                .entry(owner)
                .or_default()
                .insert(s);
            self.chunks[owner].exports.insert(s);
        }
    }
}

/// Links the graph. `entries` are the declared entry modules, in order.
///
/// The phases, each a function of this module:
/// 1. `find_entry_points`: declared entries, `import()` targets (ESM),
///    workers;
/// 2. `compute_wrapping`: which modules run in a closure
///    (`check_top_level_await` where that cannot work);
/// 3. `scan_imports_and_exports`: which modules are included (tree
///    shaking at module level) and what every import resolves to;
/// 4. `namespace_call_warnings`, `namespaces_to_build`;
/// 5. `declare_symbols` (and `find_helpers`): the chunk-level names;
/// 6. `plan_modules`: what each module's imports, calls and preludes
///    become;
/// 7. `compute_evaluation_order`, `place_runtime`, `compute_chunks`;
/// 8. `share_symbols`, `order_chunk_dependencies`, `plan_entry_exports`:
///    keep sets and what chunks import from each other;
/// 9. `assign_names`: final names, unique across the build.
pub fn link(
    modules: &[ModuleData],
    entries: &[ModuleId],
    opts: &LinkOptions,
) -> Result<Linked, Vec<Diagnostic>> {
    let mut l = Linker::new(modules);
    // Entry points, and modules reached by `require()` and `import()`.
    let roots = find_entry_points(modules, entries, opts.format);
    // Which modules are wrapped; top-level await where it cannot run.
    let wrap = compute_wrapping(modules, &roots);
    check_top_level_await(&mut l, &wrap, opts.format);
    // Inclusion (tree shaking at module level) and uses.
    let scan = scan_imports_and_exports(&mut l, &roots.entry_points, opts.runtime);
    // `ns()` of a namespace import: warned about, the build goes on.
    let warnings = namespace_call_warnings(&l, &scan.needed, &scan.resolved);
    // Namespace objects the emitter must build.
    let materialize = namespaces_to_build(&l, &roots, &scan.needed, scan.as_object, opts.format);
    if !l.diagnostics.is_empty() {
        return Err(l.diagnostics);
    }
    let g = Graph {
        l,
        modules,
        format: opts.format,
        runtime: opts.runtime,
        entry_points: roots.entry_points,
        dynamic_targets: roots.dynamic_targets,
        wrap,
        needed: scan.needed,
        resolved: scan.resolved,
    };

    // Symbols: each included module's chunk-level names, the runtime's
    // first, and the runtime's helpers among them.
    let (mut syms, mut plans) = declare_symbols(&g, &materialize);
    let helpers = find_helpers(&g, &syms);
    // Stylesheets and assets of each entry point (an IIFE's lazy modules
    // are in its script, so their CSS is in its stylesheet).
    let entry_styles: Vec<(Vec<ModuleId>, BTreeSet<ModuleId>)> = g
        .entry_points
        .iter()
        .map(|&entry| styles_of(modules, &g.needed, entry, g.format == OutFormat::Iife))
        .collect();
    // Per-module plans: imports, calls, preludes.
    plan_modules(&g, &entry_styles, &mut syms, &mut plans);

    // Evaluation order and chunk membership; the runtime goes with its
    // users.
    let mut order = compute_evaluation_order(modules, &g.entry_points);
    let runtime_users = place_runtime(&g, &plans, &helpers, &mut order);
    // Chunks: one per entry point, plus one per other reach set.
    let mut chunking = compute_chunks(&g, &order);
    // Keep sets and cross-chunk imports.
    share_symbols(
        &g,
        &syms,
        &helpers,
        &runtime_users,
        &mut plans,
        &mut chunking,
    );
    // Static chunk dependencies without names still order evaluation.
    order_chunk_dependencies(&g, &mut chunking);
    // Entry exports.
    plan_entry_exports(&g, scan.entry_exports, &syms, &mut plans, &mut chunking);
    for (e, (css, assets)) in entry_styles.into_iter().enumerate() {
        chunking.chunks[e].css = css;
        chunking.chunks[e].assets = assets;
    }

    // Final names.
    let names = assign_names(modules, &g.needed, &syms, opts.minify);
    Ok(Linked {
        entry_points: g.entry_points,
        plans,
        chunks: chunking.chunks,
        names,
        helpers,
        warnings,
    })
}

/// Entry points: declared entries, then `import()` targets (ESM) and
/// workers, in the order found; and the modules `require()`d and lazily
/// imported.
fn find_entry_points(modules: &[ModuleData], entries: &[ModuleId], format: OutFormat) -> Roots {
    let mut roots = Roots {
        entry_points: Vec::new(),
        lazy: BTreeSet::new(),
        dynamic_targets: BTreeSet::new(),
        required: BTreeSet::new(),
    };
    let entry_points = &mut roots.entry_points;
    for &e in entries {
        if !entry_points.contains(&e) {
            entry_points.push(e);
        }
    }
    for m in modules {
        for r in &m.records {
            if let Target::Module(t) = r.target {
                match r.kind {
                    RecordKind::Dynamic if js(&modules[t]).is_some() => {
                        if format == OutFormat::Esm {
                            if !entry_points.contains(&t) {
                                entry_points.push(t);
                            }
                            roots.dynamic_targets.insert(t);
                        } else {
                            roots.lazy.insert(t);
                        }
                    }
                    RecordKind::Require => {
                        roots.required.insert(t);
                    }
                    // `new Worker(new URL('./worker.js', import.meta.url))`:
                    // a script of its own.
                    RecordKind::Url if js(&modules[t]).is_some() && !entry_points.contains(&t) => {
                        entry_points.push(t);
                    }
                    _ => {}
                }
            }
        }
    }
    roots
}

/// How each module is wrapped (see [`Graph::wrap`]): `CommonJS` modules
/// in `__commonJS`; ES modules that are `require`d or lazily imported in
/// `__esm`, and with them what they import.
fn compute_wrapping(modules: &[ModuleData], roots: &Roots) -> Vec<Option<bool>> {
    let (lazy, required) = (&roots.lazy, &roots.required);
    let mut wrap: Vec<Option<bool>> = vec![None; modules.len()]; // Some(true) = cjs, Some(false) = esm
    let mut queue: Vec<ModuleId> = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        if let Some(j) = js(m) {
            if j.format == Format::CommonJs {
                wrap[i] = Some(true);
            } else if j.json && !lazy.contains(&i) {
                // Data: evaluated in order, `require()` reads its value.
            } else if required.contains(&i) || lazy.contains(&i) {
                wrap[i] = Some(false);
                queue.push(i);
            }
        }
    }
    // What a lazily run ES module imports runs lazily too.
    while let Some(m) = queue.pop() {
        for r in &modules[m].records {
            if r.kind == RecordKind::Static
                && let Target::Module(t) = r.target
                && wrap[t].is_none()
                && js(&modules[t]).is_some()
            {
                wrap[t] = Some(false);
                queue.push(t);
            }
        }
    }
    wrap
}

/// Top-level await in a module that runs in a closure, or anywhere in an
/// IIFE bundle: an error.
fn check_top_level_await(l: &mut Linker<'_>, wrap: &[Option<bool>], format: OutFormat) {
    for (i, m) in l.modules.iter().enumerate() {
        if wrap[i] == Some(false)
            && let Some(j) = js(m)
            && j.has_tla
        {
            l.diagnostics.push(
                Diagnostic::error(
                    "TOP_LEVEL_AWAIT",
                    Category::Input,
                    format!("{} uses top-level await, but it is loaded with require() or lazily in an IIFE bundle", m.shown),
                )
                .with_file(m.shown.clone())
                .with_help("import it with `import` from an ES module, and use format = \"esm\""),
            );
        }
        if format == OutFormat::Iife
            && let Some(j) = js(m)
            && j.has_tla
            && wrap[i].is_none()
        {
            l.diagnostics.push(
                Diagnostic::error(
                    "TOP_LEVEL_AWAIT",
                    Category::Input,
                    format!(
                        "{} uses top-level await, which an IIFE bundle cannot run",
                        m.shown
                    ),
                )
                .with_file(m.shown.clone())
                .with_help("use format = \"esm\""),
            );
        }
    }
}

/// Marks `m` needed, and queues it for the scan the first time.
fn need(m: ModuleId, needed: &mut [bool], work: &mut Vec<ModuleId>) {
    if !needed[m] {
        needed[m] = true;
        work.push(m);
    }
}

/// Inclusion (tree shaking at module level): from the entry points and
/// the runtime, a module is needed when it has side effects and is
/// imported, or when something it exports is used. Resolves every import
/// of a needed module on the way (an import no module exports is an
/// error) and each entry point's exports.
fn scan_imports_and_exports(
    l: &mut Linker<'_>,
    entry_points: &[ModuleId],
    runtime: ModuleId,
) -> Scan {
    let modules = l.modules;
    let n = modules.len();
    let mut scan = Scan {
        needed: vec![false; n],
        resolved: HashMap::new(),
        entry_exports: vec![Vec::new(); entry_points.len()],
        as_object: BTreeSet::new(),
    };
    let mut namespaces: BTreeSet<ModuleId> = BTreeSet::new();
    let mut work: Vec<ModuleId> = Vec::new();
    for &e in entry_points {
        need(e, &mut scan.needed, &mut work);
    }
    need(runtime, &mut scan.needed, &mut work);
    let mut processed = vec![false; n];
    while let Some(m) = work.pop() {
        if processed[m] {
            continue;
        }
        processed[m] = true;
        let md = &modules[m];
        for r in &md.records {
            if let Target::Module(t) = r.target {
                match r.kind {
                    RecordKind::Static => {
                        if modules[t].side_effects || matches!(modules[t].body, Body::Css) {
                            need(t, &mut scan.needed, &mut work);
                        }
                    }
                    RecordKind::Require | RecordKind::Dynamic | RecordKind::Url => {
                        need(t, &mut scan.needed, &mut work);
                    }
                }
            }
        }
        let mut uses: Vec<Res> = Vec::new();
        if let Some(j) = js(md) {
            resolve_imports(l, m, j, &mut scan, &mut uses);
            // Names `export … from` an ESM entry re-exports are used.
            if let Some(e) = entry_points.iter().position(|&x| x == m) {
                for name in l.export_names(m, &mut HashSet::new()) {
                    let r = l.resolve_export(m, &name, &mut Vec::new());
                    if matches!(r, Res::Missing | Res::Ambiguous) {
                        continue;
                    }
                    if let Res::Namespace(o) = r {
                        scan.as_object.insert(o);
                    }
                    uses.push(r.clone());
                    scan.entry_exports[e].push((name, r));
                }
            }
        }
        // What is used is needed; a namespace used as a whole uses every
        // export.
        while let Some(r) = uses.pop() {
            match r {
                Res::Namespace(o) => {
                    need(o, &mut scan.needed, &mut work);
                    if namespaces.insert(o) {
                        for name in l.export_names(o, &mut HashSet::new()) {
                            let r = l.resolve_export(o, &name, &mut Vec::new());
                            // A member that is a namespace is an object.
                            if let Res::Namespace(inner) = r {
                                scan.as_object.insert(inner);
                            }
                            uses.push(r);
                        }
                    }
                }
                Res::Binding(o, _) | Res::CjsProp(o, _) | Res::CjsNamespace(o) | Res::Asset(o) => {
                    need(o, &mut scan.needed, &mut work);
                }
                _ => {}
            }
        }
    }
    scan
}

/// Resolves the imports of module `m` (whose code is `j`) into
/// `scan.resolved`, each result also pushed to `uses`; an import that
/// resolves to nothing, or to more than one export, is an error.
fn resolve_imports(
    l: &mut Linker<'_>,
    m: ModuleId,
    j: &super::module::Js,
    scan: &mut Scan,
    uses: &mut Vec<Res>,
) {
    for (i, imp) in j.imports.iter().enumerate() {
        let mut r = l.resolve_import(m, imp, &mut Vec::new());
        // TypeScript compiles one file at a time: a name it imports
        // that no module exports is taken for a type (esbuild does
        // the same), and reads as undefined.
        if j.is_ts && r == Res::Missing {
            r = Res::Undefined;
        }
        match &r {
            Res::Missing => {
                let name = match &imp.what {
                    Imported::Default => "default".to_string(),
                    Imported::Named(n) => n.to_string(),
                    Imported::Namespace => "*".to_string(),
                };
                let target = match l.target(m, imp.record) {
                    Some(Target::Module(t)) => l.modules[*t].shown.clone(),
                    _ => String::new(),
                };
                l.error(
                    m,
                    imp.record,
                    "MISSING_EXPORT",
                    format!("no export named `{name}` in {target}"),
                );
            }
            Res::Ambiguous => {
                let name = imp.what.name().map(ToString::to_string).unwrap_or_default();
                l.error(
                    m,
                    imp.record,
                    "AMBIGUOUS_EXPORT",
                    format!("`{name}` is exported by more than one `export *` of that module, so it is not exported"),
                );
            }
            _ => {}
        }
        // A namespace reached as a value (a named import of a
        // re-exported namespace, zod's `z`) must exist as an object;
        // `import * as ns` used only as `ns.x` need not.
        if let Res::Namespace(o) = r
            && !(imp.what == Imported::Namespace && imp.member_only)
        {
            scan.as_object.insert(o);
        }
        uses.push(r.clone());
        scan.resolved.insert((m, i), r);
    }
}

/// `ns()` of `import * as ns`: a namespace object is not callable
/// (esbuild's call-import-namespace), except where TypeScript without
/// `esModuleInterop` makes it the `CommonJS` module's `module.exports`.
fn namespace_call_warnings(
    l: &Linker<'_>,
    needed: &[bool],
    resolved: &HashMap<(ModuleId, usize), Res>,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for (m, md) in l.modules.iter().enumerate() {
        let Some(j) = js(md).filter(|_| needed[m]) else {
            continue;
        };
        for (local, range, new) in &j.namespace_calls {
            let Some(&i) = l.import_index[m].get(local) else {
                continue;
            };
            let r = resolved.get(&(m, i));
            if j.raw_namespaces && matches!(r, Some(Res::CjsNamespace(_))) {
                continue;
            }
            let what = if *new { "Constructing" } else { "Calling" };
            let kind = if *new { "constructor" } else { "function" };
            warnings.push(
                Diagnostic::warning(
                    "CALL_IMPORT_NAMESPACE",
                    Category::Input,
                    format!(
                        "{what} `{}` will fail at run time: `import * as {}` gives a namespace object, not a {kind}",
                        local.0, local.0
                    ),
                )
                .with_label(Label::new(md.shown.clone(), j.source.clone(), range.clone()))
                .with_help(format!(
                    "import the default instead (`import {} from …`); TypeScript files whose tsconfig.json leaves `esModuleInterop` off get TypeScript's `module.exports` here",
                    local.0
                )),
            );
        }
    }
    warnings
}

/// Namespaces the emitter must build: imported as a whole (not only
/// `ns.prop`), required, lazily imported, an IIFE's entry.
fn namespaces_to_build(
    l: &Linker<'_>,
    roots: &Roots,
    needed: &[bool],
    as_object: BTreeSet<ModuleId>,
    format: OutFormat,
) -> BTreeSet<ModuleId> {
    let modules = l.modules;
    let is_esm = |t: ModuleId| js(&modules[t]).is_some_and(|tj| tj.format == Format::Esm);
    let mut materialize: BTreeSet<ModuleId> =
        as_object.into_iter().filter(|&o| is_esm(o)).collect();
    for (i, m) in modules.iter().enumerate() {
        if !needed[i] {
            continue;
        }
        if let Some(j) = js(m) {
            for imp in &j.imports {
                if imp.what == Imported::Namespace
                    && !imp.member_only
                    && let Some(Target::Module(t)) = l.target(i, imp.record)
                    && is_esm(*t)
                {
                    materialize.insert(*t);
                }
            }
            // `import * as ns …; export { ns }` needs the object too.
            for e in j.exports.values() {
                if let ExportFrom::Local(id) = e
                    && let Some(&k) = l.import_index[i].get(id)
                    && j.imports[k].what == Imported::Namespace
                    && let Some(Target::Module(t)) = l.target(i, j.imports[k].record)
                    && is_esm(*t)
                {
                    materialize.insert(*t);
                }
            }
            for (r, what) in j.exports.values().filter_map(|e| match e {
                ExportFrom::Record(r, w) => Some((r, w)),
                ExportFrom::Local(_) => None,
            }) {
                if *what == Imported::Namespace
                    && let Some(Target::Module(t)) = l.target(i, *r)
                    && is_esm(*t)
                {
                    materialize.insert(*t);
                }
            }
        }
    }
    for &t in roots
        .required
        .iter()
        .chain(&roots.lazy)
        .chain(&roots.dynamic_targets)
    {
        if needed[t] && is_esm(t) {
            materialize.insert(t);
        }
    }
    if format == OutFormat::Iife
        && let Some(&e) = roots.entry_points.first()
        && is_esm(e)
    {
        materialize.insert(e);
    }
    materialize
}

/// Symbols: each included JS module's closure (`require_x`, `init_x`),
/// top-level bindings and namespace object, the runtime's first so its
/// helpers keep their names. Returns them with a plan per module that
/// has them, holding its wrapping and renames.
fn declare_symbols(
    g: &Graph<'_>,
    materialize: &BTreeSet<ModuleId>,
) -> (Symbols, Vec<Option<Plan>>) {
    let (modules, n) = (g.modules, g.modules.len());
    let mut syms = Symbols::default();
    let mut plans: Vec<Option<Plan>> = (0..n).map(|_| None).collect();
    let order: Vec<ModuleId> = std::iter::once(g.runtime)
        .chain((0..n).filter(|&i| i != g.runtime))
        .collect();
    for &i in &order {
        if !g.needed[i] {
            continue;
        }
        let Some(j) = js(&modules[i]) else { continue };
        let stem = super::ident_stem(&modules[i].name);
        let mut plan = Plan::default();
        match g.wrap[i] {
            Some(true) => {
                let s = syms.add(&format!("require_{stem}"), 2, i);
                syms.wrap.insert(i, s);
                plan.wrap = Some(Wrap::Cjs(s));
            }
            w => {
                if w == Some(false) {
                    let s = syms.add(&format!("init_{stem}"), 2, i);
                    syms.wrap.insert(i, s);
                    plan.wrap = Some(Wrap::Esm(s));
                } else {
                    plan.wrap = Some(Wrap::None);
                }
                for (id, count) in &j.top_level {
                    let s = syms.add(&id.0, *count, i);
                    syms.top.insert((i, id.clone()), s);
                    plan.renames.insert(id.clone(), s);
                }
            }
        }
        if materialize.contains(&i) {
            let s = syms.add(&format!("{stem}_exports"), 2, i);
            syms.ns.insert(i, s);
        }
        plans[i] = Some(plan);
    }
    (syms, plans)
}

/// The runtime's helpers by name, as symbols.
fn find_helpers(g: &Graph<'_>, syms: &Symbols) -> BTreeMap<&'static str, SymId> {
    let helper_names = [
        "__commonJS",
        "__esm",
        "__export",
        "__toESM",
        "__toCommonJS",
        "__loadCss",
    ];
    let mut helpers: BTreeMap<&'static str, SymId> = BTreeMap::new();
    if let Some(j) = js(&g.modules[g.runtime]) {
        for h in helper_names {
            if let Some((id, _)) = j.top_level.iter().find(|(id, _)| &*id.0 == h)
                && let Some(&s) = syms.top.get(&(g.runtime, id.clone()))
            {
                helpers.insert(h, s);
            }
        }
    }
    helpers
}

/// Completes the plan of each included JS module: the preludes of its
/// static dependencies, what its imports and calls become, its namespace
/// object; and, on the `CommonJS` modules they read, the `import_x`
/// variables of their ES importers.
fn plan_modules(
    g: &Graph<'_>,
    entry_styles: &[(Vec<ModuleId>, BTreeSet<ModuleId>)],
    syms: &mut Symbols,
    plans: &mut [Option<Plan>],
) {
    let modules = g.modules;
    let mut postludes: HashMap<ModuleId, Vec<Prelude>> = HashMap::new();
    for m in 0..modules.len() {
        if !g.needed[m] {
            continue;
        }
        let Some(j) = js(&modules[m]) else { continue };
        let mut plan = plans[m].take().unwrap_or_default();
        let mut prelude: Vec<Prelude> = Vec::new();
        let mut v = Vars {
            syms,
            postludes: &mut postludes,
            lazy: matches!(plan.wrap, Some(Wrap::Esm(_))),
            modules,
            m,
            node_mode: j.node_mode,
        };
        plan_static_dependencies(g, &mut v, &mut prelude);
        plan_imports(g, j, &mut v, &mut plan, &mut prelude);
        plan_calls(g, m, j, entry_styles, v.syms, &mut plan);
        if let Some(&ns) = v.syms.ns.get(&m) {
            let mut members = Vec::new();
            for name in g.l.export_names(m, &mut HashSet::new()) {
                let r = g.l.resolve_export(m, &name, &mut Vec::new());
                if matches!(r, Res::Missing | Res::Ambiguous) {
                    continue;
                }
                members.push((name, v.repl(&r, &mut prelude)));
            }
            prelude.insert(0, Prelude::Namespace { var: ns, members });
        }
        plan.prelude = prelude;
        plans[m] = Some(plan);
    }
    for (t, list) in postludes {
        if let Some(p) = plans[t].as_mut() {
            p.postlude = list;
        }
    }
}

/// Static dependencies of `v.m`, in order: `CommonJS` ones are required
/// where they are imported; lazily run ES modules are initialised there.
fn plan_static_dependencies(g: &Graph<'_>, v: &mut Vars<'_>, prelude: &mut Vec<Prelude>) {
    let mut seen_targets = BTreeSet::new();
    for r in &g.modules[v.m].records {
        if r.kind != RecordKind::Static {
            continue;
        }
        if let Target::Module(t) = r.target
            && g.needed[t]
            && seen_targets.insert(t)
        {
            match g.wrap[t] {
                Some(true) => {
                    v.import_var(t, prelude);
                }
                Some(false) => {
                    if let Some(&s) = v.syms.wrap.get(&t) {
                        prelude.push(Prelude::Init(s));
                    }
                }
                None => {}
            }
        }
    }
}

/// What each import of `v.m` (whose code is `j`) becomes.
fn plan_imports(
    g: &Graph<'_>,
    j: &super::module::Js,
    v: &mut Vars<'_>,
    plan: &mut Plan,
    prelude: &mut Vec<Prelude>,
) {
    let m = v.m;
    for (i, imp) in j.imports.iter().enumerate() {
        let r = g.resolved.get(&(m, i)).cloned().unwrap_or(Res::Undefined);
        if imp.what == Imported::Namespace && imp.member_only && matches!(r, Res::Namespace(_)) {
            // `ns.prop` resolves statically; the object is not built.
            if let Res::Namespace(t) = r {
                plan.imports.insert(
                    imp.local.clone(),
                    v.syms
                        .ns
                        .get(&t)
                        .map_or(Repl::EmptyObject, |&s| Repl::Sym(s)),
                );
                for name in g.l.export_names(t, &mut HashSet::new()) {
                    let rr = g.l.resolve_export(t, &name, &mut Vec::new());
                    let repl = v.repl(&rr, prelude);
                    plan.members.insert((imp.local.clone(), name), repl);
                }
            }
            continue;
        }
        let repl = match r {
            // TypeScript without `esModuleInterop`: `module.exports`
            // itself, so `ns()` works as tsc compiled it.
            Res::CjsNamespace(o) if imp.what == Imported::Namespace && j.raw_namespaces => {
                Repl::Sym(v.raw_var(o, prelude))
            }
            _ => v.repl(&r, prelude),
        };
        // The binding is read wherever it is imported: that counts
        // toward its short name.
        if let Repl::Sym(s) | Repl::Member(s, _) = &repl {
            v.syms.count[*s] += imp.count;
        }
        plan.imports.insert(imp.local.clone(), repl);
    }
}

/// What each `require()`, `import()` and `new URL()` of module `m`
/// (whose code is `j`) becomes.
fn plan_calls(
    g: &Graph<'_>,
    m: ModuleId,
    j: &super::module::Js,
    entry_styles: &[(Vec<ModuleId>, BTreeSet<ModuleId>)],
    syms: &Symbols,
    plan: &mut Plan,
) {
    let (modules, wrap) = (g.modules, &g.wrap);
    for r in &modules[m].records {
        let Target::Module(t) = r.target else {
            if r.kind == RecordKind::Require && r.target == Target::Empty {
                plan.calls.insert(r.pos, CallRepl::Empty);
            }
            continue;
        };
        match r.kind {
            RecordKind::Require => {
                let json_value = js(&modules[t])
                    .filter(|tj| tj.json && wrap[t].is_none())
                    .and_then(|tj| match tj.exports.get(&Atom::from("default")) {
                        Some(ExportFrom::Local(id)) => syms.top.get(&(t, id.clone())).copied(),
                        _ => None,
                    });
                let repl = match (&modules[t].body, wrap[t]) {
                    _ if json_value.is_some() => CallRepl::Value(json_value.unwrap_or(0)),
                    (Body::Js(_), Some(true)) => {
                        CallRepl::Call(syms.wrap.get(&t).copied().unwrap_or(0))
                    }
                    (Body::Js(_), _) => CallRepl::ToCommonJs {
                        init: syms.wrap.get(&t).copied(),
                        ns: syms.ns.get(&t).copied().unwrap_or(0),
                    },
                    _ => CallRepl::Empty,
                };
                plan.calls.insert(r.pos, repl);
            }
            RecordKind::Dynamic if js(&modules[t]).is_some() => {
                if g.format == OutFormat::Esm {
                    let e = g.entry_points.iter().position(|&x| x == t).unwrap_or(0);
                    plan.calls.insert(
                        r.pos,
                        CallRepl::Chunk {
                            entry: e,
                            ns: syms.ns.contains_key(&t),
                            css: !entry_styles[e].0.is_empty(),
                        },
                    );
                } else {
                    let repl = match wrap[t] {
                        Some(true) => CallRepl::InlineCjs {
                            require: syms.wrap.get(&t).copied().unwrap_or(0),
                            node_mode: j.node_mode,
                        },
                        _ => CallRepl::Inline {
                            init: syms.wrap.get(&t).copied(),
                            ns: syms.ns.get(&t).copied().unwrap_or(0),
                        },
                    };
                    plan.calls.insert(r.pos, repl);
                }
            }
            RecordKind::Url => match g.entry_points.iter().position(|&x| x == t) {
                Some(e) if js(&modules[t]).is_some() => {
                    plan.url_chunks.insert(r.pos, e);
                }
                _ => {
                    plan.urls.insert(r.pos, t);
                }
            },
            _ => {}
        }
    }
}

/// Evaluation order and chunk membership: a DFS over static edges from
/// each entry point, through modules left out too (their dependencies
/// still run where they would have).
fn compute_evaluation_order(modules: &[ModuleData], entry_points: &[ModuleId]) -> Order {
    let n = modules.len();
    let words = entry_points.len().div_ceil(64);
    let mut reach: Vec<Vec<u64>> = vec![vec![0; words]; n];
    let mut order_index: Vec<usize> = vec![usize::MAX; n];
    let mut next_order = 0;
    for (e, &entry) in entry_points.iter().enumerate() {
        let mut stack: Vec<(ModuleId, usize)> = vec![(entry, 0)];
        let mut on = vec![false; n];
        on[entry] = true;
        reach[entry][e / 64] |= 1 << (e % 64);
        while let Some(&mut (m, ref mut pos)) = stack.last_mut() {
            let recs = &modules[m].records;
            if let Some(r) = recs.get(*pos) {
                *pos += 1;
                if matches!(r.kind, RecordKind::Static | RecordKind::Require)
                    && let Target::Module(t) = r.target
                    && !on[t]
                {
                    on[t] = true;
                    reach[t][e / 64] |= 1 << (e % 64);
                    stack.push((t, 0));
                }
                continue;
            }
            stack.pop();
            if order_index[m] == usize::MAX {
                order_index[m] = next_order;
                next_order += 1;
            }
        }
    }
    Order {
        reach,
        index: order_index,
    }
}

/// The runtime goes with its users: reached by every entry point that
/// reaches a module using a helper, first in evaluation order. Returns
/// those users.
fn place_runtime(
    g: &Graph<'_>,
    plans: &[Option<Plan>],
    helpers: &BTreeMap<&'static str, SymId>,
    order: &mut Order,
) -> Vec<ModuleId> {
    let runtime_users: Vec<ModuleId> = (0..g.modules.len())
        .filter(|&m| {
            g.needed[m]
                && m != g.runtime
                && plans[m].as_ref().is_some_and(|p| uses_helpers(p, helpers))
        })
        .collect();
    let mut runtime_reach = vec![0u64; g.entry_points.len().div_ceil(64)];
    for &u in &runtime_users {
        for (w, bits) in runtime_reach.iter_mut().zip(&order.reach[u]) {
            *w |= bits;
        }
    }
    order.reach[g.runtime] = runtime_reach;
    order.index[g.runtime] = 0;
    runtime_users
}

/// Chunks: one per entry point, plus one per other reach set (ESM); an
/// IIFE build has one script per entry point, holding all it needs.
fn compute_chunks(g: &Graph<'_>, order: &Order) -> Chunking {
    let (modules, n) = (g.modules, g.modules.len());
    let (reach, order_index) = (&order.reach, &order.index);
    let words = g.entry_points.len().div_ceil(64);
    let mut chunks: Vec<ChunkPlan> = Vec::new();
    let mut chunk_of_set: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    for e in 0..g.entry_points.len() {
        let mut set = vec![0u64; words];
        set[e / 64] |= 1 << (e % 64);
        chunk_of_set.insert(set, chunks.len());
        chunks.push(ChunkPlan {
            entry: Some(e),
            ..ChunkPlan::default()
        });
    }
    let mut members: Vec<ModuleId> = (0..n)
        .filter(|&m| g.needed[m] && order_index[m] != usize::MAX)
        .collect();
    members.sort_by_key(|&m| (order_index[m] != 0 || m != g.runtime, order_index[m], m));
    let mut chunk_of = vec![usize::MAX; n];
    for &m in &members {
        if reach[m].iter().all(|w| *w == 0) {
            continue;
        }
        if g.format == OutFormat::Iife {
            // Classic scripts cannot import each other: every entry's
            // script holds all it needs (names are unique across the
            // build, so one module's code serves every script).
            if matches!(modules[m].body, Body::Js(_)) {
                for (e, chunk) in chunks.iter_mut().enumerate().take(g.entry_points.len()) {
                    if reach[m][e / 64] & (1 << (e % 64)) != 0 {
                        chunk.modules.push(m);
                    }
                }
            }
            continue;
        }
        let c = *chunk_of_set.entry(reach[m].clone()).or_insert_with(|| {
            chunks.push(ChunkPlan::default());
            chunks.len() - 1
        });
        chunk_of[m] = c;
        match &modules[m].body {
            Body::Js(_) => chunks[c].modules.push(m),
            Body::Css | Body::Asset | Body::Empty => {}
        }
    }
    Chunking {
        chunks,
        chunk_of,
        members,
    }
}

/// Which symbols each module uses from elsewhere, as (user, symbol); and
/// the symbols namespace objects read, which are built outside their
/// module's own code.
fn cross_uses(plans: &[Option<Plan>]) -> (Vec<(ModuleId, SymId)>, Vec<SymId>) {
    let mut cross_uses: Vec<(ModuleId, SymId)> = Vec::new(); // (user, symbol)
    let mut head_uses: Vec<SymId> = Vec::new();
    for (m, plan) in plans.iter().enumerate() {
        let Some(plan) = plan else { continue };
        let sym_of = |r: &Repl| match r {
            Repl::Sym(s) | Repl::Member(s, _) => Some(*s),
            _ => None,
        };
        cross_uses.extend(
            plan.imports
                .values()
                .chain(plan.members.values())
                .filter_map(sym_of)
                .map(|s| (m, s)),
        );
        for p in plan.prelude.iter().chain(&plan.postlude) {
            match p {
                Prelude::ImportVar { require, .. } => cross_uses.push((m, *require)),
                Prelude::Init(s) => cross_uses.push((m, *s)),
                Prelude::Namespace { members, .. } => {
                    // The object is built outside the module's own code,
                    // so even its own bindings must be kept.
                    cross_uses.extend(
                        members
                            .iter()
                            .filter_map(|(_, r)| sym_of(r))
                            .map(|s| (m, s)),
                    );
                    head_uses.extend(members.iter().filter_map(|(_, r)| sym_of(r)));
                }
            }
        }
        for c in plan.calls.values() {
            match c {
                CallRepl::Call(s) | CallRepl::InlineCjs { require: s, .. } => {
                    cross_uses.push((m, *s));
                }
                CallRepl::ToCommonJs { init, ns } | CallRepl::Inline { init, ns } => {
                    cross_uses.push((m, *ns));
                    if let Some(i) = init {
                        cross_uses.push((m, *i));
                    }
                }
                _ => {}
            }
        }
    }
    (cross_uses, head_uses)
}

/// Keep sets and cross-chunk imports: a symbol another module (or a
/// namespace object) reads is kept by its owner's minifier, and imported
/// from its owner's chunk; likewise the runtime's helpers.
fn share_symbols(
    g: &Graph<'_>,
    syms: &Symbols,
    helpers: &BTreeMap<&'static str, SymId>,
    runtime_users: &[ModuleId],
    plans: &mut [Option<Plan>],
    chunking: &mut Chunking,
) {
    let (cross_uses, head_uses) = cross_uses(plans);
    for s in head_uses {
        if let Some(&o) = syms.owner.get(&s)
            && let Some(p) = plans[o].as_mut()
        {
            p.keep.insert(s);
        }
    }
    let helper_set: BTreeSet<SymId> = helpers.values().copied().collect();
    for (user, s) in cross_uses {
        let Some(&o) = syms.owner.get(&s) else {
            continue;
        };
        if o != user
            && let Some(p) = plans[o].as_mut()
        {
            p.keep.insert(s);
        }
        chunking.share(chunking.chunk_of[user], chunking.chunk_of[o], s);
    }
    for &u in runtime_users {
        let Some(p) = plans[u].as_ref() else { continue };
        let used_here: Vec<SymId> = helper_set
            .iter()
            .copied()
            .filter(|h| plan_uses(p, *h, helpers))
            .collect();
        for h in used_here {
            if let Some(rp) = plans[g.runtime].as_mut() {
                rp.keep.insert(h);
            }
            chunking.share(chunking.chunk_of[u], chunking.chunk_of[g.runtime], h);
        }
    }
}

/// Static chunk dependencies without names still order evaluation; and
/// the chunks each chunk loads with `import()`.
fn order_chunk_dependencies(g: &Graph<'_>, chunking: &mut Chunking) {
    let modules = g.modules;
    let Chunking {
        chunks,
        chunk_of,
        members,
    } = chunking;
    for &m in &*members {
        for r in &modules[m].records {
            if r.kind == RecordKind::Static
                && let Target::Module(t) = r.target
                && g.needed[t]
            {
                let (cm, ct) = (chunk_of[m], chunk_of[t]);
                if cm != usize::MAX && ct != usize::MAX && cm != ct && js(&modules[t]).is_some() {
                    chunks[cm].imports.entry(ct).or_default();
                }
            }
            if r.kind == RecordKind::Dynamic
                && let Target::Module(t) = r.target
                && let Some(e) = g.entry_points.iter().position(|&x| x == t)
                && chunk_of[m] != usize::MAX
                && g.format == OutFormat::Esm
            {
                chunks[chunk_of[m]].dynamic.insert(e);
            }
        }
    }
}

/// Entry exports: what each entry chunk exports (or runs, for a
/// `CommonJS` entry), kept by the modules that declare it and imported
/// from their chunks.
fn plan_entry_exports(
    g: &Graph<'_>,
    entry_exports: Vec<Vec<(Atom, Res)>>,
    syms: &Symbols,
    plans: &mut [Option<Plan>],
    chunking: &mut Chunking,
) {
    for (e, mut list) in entry_exports.into_iter().enumerate() {
        let entry = g.entry_points[e];
        let c = e;
        if g.dynamic_targets.contains(&entry) && syms.ns.contains_key(&entry) {
            list.push((Atom::from(NS_EXPORT), Res::Namespace(entry)));
        }
        if g.wrap[entry] == Some(true)
            && let Some(&s) = syms.wrap.get(&entry)
        {
            chunking.chunks[c].entry_cjs = Some(s);
            chunking.share(c, chunking.chunk_of[entry], s);
            if let Some(p) = plans[entry].as_mut() {
                p.keep.insert(s);
            }
        }
        let mut exports = Vec::new();
        for (name, r) in list {
            let repl = match &r {
                Res::Binding(o, id) => syms
                    .top
                    .get(&(*o, id.clone()))
                    .map_or(Repl::Undefined, |&s| Repl::Sym(s)),
                Res::Namespace(o) => syms.ns.get(o).map_or(Repl::EmptyObject, |&s| Repl::Sym(s)),
                Res::CjsProp(o, p) => match syms.import_vars.get(&(entry, *o)) {
                    Some(&v) => Repl::Member(v, p.clone()),
                    None => Repl::Undefined,
                },
                Res::CjsNamespace(o) => syms
                    .import_vars
                    .get(&(entry, *o))
                    .map_or(Repl::Undefined, |&v| Repl::Sym(v)),
                Res::Asset(o) => Repl::Url(*o),
                _ => Repl::Undefined,
            };
            if let Repl::Sym(s) | Repl::Member(s, _) = &repl
                && let Some(&o) = syms.owner.get(s)
            {
                if let Some(p) = plans[o].as_mut() {
                    p.keep.insert(*s);
                }
                chunking.share(c, chunking.chunk_of[o], *s);
            }
            exports.push((name, repl));
        }
        let chunk = &mut chunking.chunks[c];
        chunk.entry_exports = exports;
        chunk.entry_namespace = syms.ns.get(&entry).copied();
        if let Some(ns) = chunk.entry_namespace
            && let Some(p) = plans[entry].as_mut()
        {
            p.keep.insert(ns);
        }
        // An entry module that sits in a shared chunk: its entry chunk
        // imports that chunk.
        let ce = chunking.chunk_of[entry];
        if ce != usize::MAX && ce != c {
            chunking.chunks[c].imports.entry(ce).or_default();
        }
    }
}

/// Final names: unique across the build, never a global any module
/// reads, nor a reserved word. Minified builds get short names, the most
/// used first.
fn assign_names(
    modules: &[ModuleData],
    needed: &[bool],
    syms: &Symbols,
    minify: bool,
) -> Vec<Atom> {
    let mut reserved: HashSet<String> = RESERVED.iter().map(|s| (*s).to_string()).collect();
    for (i, m) in modules.iter().enumerate() {
        if needed[i]
            && let Some(j) = js(m)
        {
            reserved.extend(j.globals_used.iter().map(ToString::to_string));
        }
    }
    if minify {
        short_names(syms, &reserved)
    } else {
        readable_names(syms, reserved)
    }
}

/// `a`, `b`, …: the most used symbol gets the shortest name.
fn short_names(syms: &Symbols, reserved: &HashSet<String>) -> Vec<Atom> {
    let mut order: Vec<SymId> = (0..syms.base.len()).collect();
    order.sort_by_key(|&s| (std::cmp::Reverse(syms.count[s]), s));
    let mut names = vec![Atom::default(); syms.base.len()];
    let mut k = 0usize;
    for s in order {
        loop {
            let candidate = short_name(k);
            k += 1;
            if !reserved.contains(&candidate) {
                names[s] = Atom::from(candidate);
                break;
            }
        }
    }
    names
}

/// Each symbol's base name, with a number after it where that is taken.
fn readable_names(syms: &Symbols, reserved: HashSet<String>) -> Vec<Atom> {
    let mut taken: HashSet<String> = reserved;
    // The next suffix to try per base name: a thousand modules that
    // each declare `value` must not cost a million probes.
    let mut next: HashMap<&str, usize> = HashMap::new();
    syms.base
        .iter()
        .map(|b| {
            let base = if b.is_empty() { "_" } else { b.as_str() };
            let mut name = base.to_string();
            let k = next.entry(base).or_insert(2);
            while !taken.insert(name.clone()) {
                name = format!("{base}{k}");
                *k += 1;
            }
            Atom::from(name)
        })
        .collect()
}

fn uses_helpers(p: &Plan, helpers: &BTreeMap<&'static str, SymId>) -> bool {
    helpers.values().any(|h| plan_uses(p, *h, helpers))
}

/// Whether the emitted code of `p` names helper `h`.
fn plan_uses(p: &Plan, h: SymId, helpers: &BTreeMap<&'static str, SymId>) -> bool {
    let is = |name: &str| helpers.get(name) == Some(&h);
    (is("__commonJS") && matches!(p.wrap, Some(Wrap::Cjs(_))))
        || (is("__esm") && matches!(p.wrap, Some(Wrap::Esm(_))))
        || (is("__export")
            && p.prelude
                .iter()
                .any(|x| matches!(x, Prelude::Namespace { .. })))
        || (is("__toESM")
            && p.prelude
                .iter()
                .chain(&p.postlude)
                .any(|x| matches!(x, Prelude::ImportVar { interop: true, .. })))
        || (is("__toCommonJS")
            && p.calls
                .values()
                .any(|c| matches!(c, CallRepl::ToCommonJs { .. })))
        || (is("__toESM")
            && p.calls
                .values()
                .any(|c| matches!(c, CallRepl::InlineCjs { .. })))
        || (is("__loadCss")
            && p.calls
                .values()
                .any(|c| matches!(c, CallRepl::Chunk { css: true, .. })))
}

/// The export through which `import()` reaches a chunk's namespace object.
pub const NS_EXPORT: &str = "__prebake_ns";

/// The stylesheets an entry point needs, in evaluation order, and the
/// assets its modules import: everything reachable through static imports
/// (and `import()` when `lazy_inside`).
fn styles_of(
    modules: &[ModuleData],
    needed: &[bool],
    entry: ModuleId,
    lazy_inside: bool,
) -> (Vec<ModuleId>, BTreeSet<ModuleId>) {
    let mut seen = vec![false; modules.len()];
    let mut stack = vec![(entry, 0usize)];
    seen[entry] = true;
    let mut css = Vec::new();
    let mut assets = BTreeSet::new();
    while let Some(&mut (m, ref mut pos)) = stack.last_mut() {
        if let Some(r) = modules[m].records.get(*pos) {
            *pos += 1;
            if let Target::Module(t) = r.target {
                let follow = matches!(r.kind, RecordKind::Static | RecordKind::Require)
                    || (lazy_inside && r.kind == RecordKind::Dynamic);
                match &modules[t].body {
                    Body::Asset => {
                        assets.insert(t);
                    }
                    _ if follow && !seen[t] => {
                        seen[t] = true;
                        stack.push((t, 0));
                    }
                    _ => {}
                }
            }
            continue;
        }
        stack.pop();
        if matches!(modules[m].body, Body::Css) && needed[m] {
            css.push(m);
        }
    }
    (css, assets)
}

/// Names a module's plan creates on demand.
struct Vars<'x> {
    syms: &'x mut Symbols,
    /// Import variables set at their `CommonJS` module, by module.
    postludes: &'x mut HashMap<ModuleId, Vec<Prelude>>,
    /// The importer runs lazily (its variables are set in its closure).
    lazy: bool,
    modules: &'x [ModuleData],
    m: ModuleId,
    node_mode: bool,
}

impl Vars<'_> {
    /// The `import_x` variable through which this module reads `CommonJS`
    /// module `t`, declared in its prelude on first use.
    fn import_var(&mut self, t: ModuleId, prelude: &mut Vec<Prelude>) -> SymId {
        self.var(t, prelude, true)
    }

    /// The variable holding `CommonJS` module `t`'s `module.exports` itself.
    fn raw_var(&mut self, t: ModuleId, prelude: &mut Vec<Prelude>) -> SymId {
        self.var(t, prelude, false)
    }

    fn var(&mut self, t: ModuleId, prelude: &mut Vec<Prelude>, interop: bool) -> SymId {
        let known = if interop {
            &self.syms.import_vars
        } else {
            &self.syms.raw_vars
        };
        if let Some(&v) = known.get(&(self.m, t)) {
            return v;
        }
        // Declared where it is set: in a lazy importer's closure, else
        // where the `CommonJS` module stands in evaluation order.
        let owner = if self.lazy { self.m } else { t };
        let v = self.syms.add(
            &format!("import_{}", super::ident_stem(&self.modules[t].name)),
            4,
            owner,
        );
        let vars = if interop {
            &mut self.syms.import_vars
        } else {
            &mut self.syms.raw_vars
        };
        vars.insert((self.m, t), v);
        let require = self.syms.wrap.get(&t).copied().unwrap_or(0);
        let var = Prelude::ImportVar {
            var: v,
            require,
            node_mode: self.node_mode,
            interop,
        };
        if self.lazy {
            prelude.push(var);
        } else {
            self.postludes.entry(t).or_default().push(var);
        }
        v
    }

    fn repl(&mut self, r: &Res, prelude: &mut Vec<Prelude>) -> Repl {
        match r {
            Res::Binding(o, id) => self
                .syms
                .top
                .get(&(*o, id.clone()))
                .map_or(Repl::Undefined, |&s| Repl::Sym(s)),
            Res::Namespace(o) => self
                .syms
                .ns
                .get(o)
                .map_or(Repl::EmptyObject, |&s| Repl::Sym(s)),
            Res::CjsProp(o, p) => Repl::Member(self.import_var(*o, prelude), p.clone()),
            Res::CjsNamespace(o) => Repl::Sym(self.import_var(*o, prelude)),
            Res::Asset(o) => Repl::Url(*o),
            Res::EmptyNamespace => Repl::EmptyObject,
            Res::Undefined | Res::Missing | Res::Ambiguous => Repl::Undefined,
        }
    }
}

/// `a`, `b`, … `Z`, `_`, then two characters and more. Never `$`: names
/// with `$` are left for bindings the minifier moves to the top level.
fn short_name(mut k: usize) -> String {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    let mut s = String::new();
    s.push(FIRST[k % FIRST.len()] as char);
    k /= FIRST.len();
    while k > 0 {
        k -= 1;
        s.push(REST[k % REST.len()] as char);
        k /= REST.len();
    }
    s
}

/// Words a binding may not be called.
const RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "as",
    "of",
    "async",
    "get",
    "set",
    "from",
    "NaN",
    "Infinity",
    "require",
    "module",
    "exports",
];

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<String> = (0..5000).map(short_name).collect();
        let set: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(set.len(), names.len());
        assert_eq!(names[0], "a");
        assert!(names.iter().all(|n| !n.as_bytes()[0].is_ascii_digit()));
    }
}
