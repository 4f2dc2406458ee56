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

#![allow(clippy::many_single_char_names)] // m, t, s, e: module, target, symbol, entry throughout
#![allow(clippy::similar_names)] // uses/used, sym/syms are what they say

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

impl Linker<'_> {
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

/// Symbol table under construction.
#[derive(Default)]
struct Symbols {
    base: Vec<String>,
    count: Vec<u32>,
}

impl Symbols {
    fn add(&mut self, base: &str, count: u32) -> SymId {
        self.base.push(base.to_string());
        self.count.push(count);
        self.base.len() - 1
    }
}

/// Links the graph. `entries` are the declared entry modules, in order.
pub fn link(
    modules: &[ModuleData],
    entries: &[ModuleId],
    opts: &LinkOptions,
) -> Result<Linked, Vec<Diagnostic>> {
    let n = modules.len();
    let mut l = Linker {
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
    };

    // Entry points: declared entries, then `import()` targets (ESM).
    let mut entry_points: Vec<ModuleId> = Vec::new();
    for &e in entries {
        if !entry_points.contains(&e) {
            entry_points.push(e);
        }
    }
    let mut lazy: BTreeSet<ModuleId> = BTreeSet::new();
    let mut dynamic_targets: BTreeSet<ModuleId> = BTreeSet::new();
    let mut required: BTreeSet<ModuleId> = BTreeSet::new();
    for m in modules {
        for r in &m.records {
            if let Target::Module(t) = r.target {
                match r.kind {
                    RecordKind::Dynamic if js(&modules[t]).is_some() => {
                        if opts.format == OutFormat::Esm {
                            if !entry_points.contains(&t) {
                                entry_points.push(t);
                            }
                            dynamic_targets.insert(t);
                        } else {
                            lazy.insert(t);
                        }
                    }
                    RecordKind::Require => {
                        required.insert(t);
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

    // Wrapping.
    let mut wrap: Vec<Option<bool>> = vec![None; n]; // Some(true) = cjs, Some(false) = esm
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
    for (i, m) in modules.iter().enumerate() {
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
        if opts.format == OutFormat::Iife
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

    // Inclusion (tree shaking at module level) and uses.
    let mut needed = vec![false; n];
    let mut used: HashSet<(ModuleId, Id)> = HashSet::new();
    let mut namespaces: BTreeSet<ModuleId> = BTreeSet::new();
    let mut as_object: BTreeSet<ModuleId> = BTreeSet::new();
    let mut work: Vec<ModuleId> = Vec::new();
    let need = |m: ModuleId, needed: &mut Vec<bool>, work: &mut Vec<ModuleId>| {
        if !needed[m] {
            needed[m] = true;
            work.push(m);
        }
    };
    for &e in &entry_points {
        need(e, &mut needed, &mut work);
    }
    need(opts.runtime, &mut needed, &mut work);
    // What an import resolves to, per (module, import index).
    let mut resolved: HashMap<(ModuleId, usize), Res> = HashMap::new();
    let mut entry_exports: Vec<Vec<(Atom, Res)>> = vec![Vec::new(); entry_points.len()];
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
                            need(t, &mut needed, &mut work);
                        }
                    }
                    RecordKind::Require | RecordKind::Dynamic | RecordKind::Url => {
                        need(t, &mut needed, &mut work);
                    }
                }
            }
        }
        let mut uses: Vec<Res> = Vec::new();
        if let Some(j) = js(md) {
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
                            Some(Target::Module(t)) => modules[*t].shown.clone(),
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
                    as_object.insert(o);
                }
                uses.push(r.clone());
                resolved.insert((m, i), r);
            }
            // Names `export … from` an ESM entry re-exports are used.
            if let Some(e) = entry_points.iter().position(|&x| x == m) {
                for name in l.export_names(m, &mut HashSet::new()) {
                    let r = l.resolve_export(m, &name, &mut Vec::new());
                    if matches!(r, Res::Missing | Res::Ambiguous) {
                        continue;
                    }
                    if let Res::Namespace(o) = r {
                        as_object.insert(o);
                    }
                    uses.push(r.clone());
                    entry_exports[e].push((name, r));
                }
            }
        }
        while let Some(r) = uses.pop() {
            match r {
                Res::Binding(o, id) => {
                    need(o, &mut needed, &mut work);
                    used.insert((o, id));
                }
                Res::Namespace(o) => {
                    need(o, &mut needed, &mut work);
                    if namespaces.insert(o) {
                        for name in l.export_names(o, &mut HashSet::new()) {
                            let r = l.resolve_export(o, &name, &mut Vec::new());
                            // A member that is a namespace is an object.
                            if let Res::Namespace(inner) = r {
                                as_object.insert(inner);
                            }
                            uses.push(r);
                        }
                    }
                }
                Res::CjsProp(o, _) | Res::CjsNamespace(o) | Res::Asset(o) => {
                    need(o, &mut needed, &mut work);
                }
                _ => {}
            }
        }
    }
    // `ns()` of `import * as ns`: a namespace object is not callable
    // (esbuild's call-import-namespace), except where TypeScript without
    // `esModuleInterop` makes it the `CommonJS` module's `module.exports`.
    let mut warnings = Vec::new();
    for (m, md) in modules.iter().enumerate() {
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

    // Namespaces the emitter must build: imported as a whole (not only
    // `ns.prop`), required, lazily imported, an IIFE's entry.
    let mut materialize: BTreeSet<ModuleId> = as_object
        .into_iter()
        .filter(|&o| js(&modules[o]).is_some_and(|oj| oj.format == Format::Esm))
        .collect();
    for (i, m) in modules.iter().enumerate() {
        if !needed[i] {
            continue;
        }
        if let Some(j) = js(m) {
            for imp in &j.imports {
                if imp.what == Imported::Namespace
                    && !imp.member_only
                    && let Some(Target::Module(t)) = l.target(i, imp.record)
                    && js(&modules[*t]).is_some_and(|tj| tj.format == Format::Esm)
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
                    && js(&modules[*t]).is_some_and(|tj| tj.format == Format::Esm)
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
                    && js(&modules[*t]).is_some_and(|tj| tj.format == Format::Esm)
                {
                    materialize.insert(*t);
                }
            }
        }
    }
    for &t in required.iter().chain(&lazy).chain(&dynamic_targets) {
        if needed[t] && js(&modules[t]).is_some_and(|tj| tj.format == Format::Esm) {
            materialize.insert(t);
        }
    }
    if opts.format == OutFormat::Iife
        && let Some(&e) = entry_points.first()
        && js(&modules[e]).is_some_and(|tj| tj.format == Format::Esm)
    {
        materialize.insert(e);
    }
    if !l.diagnostics.is_empty() {
        return Err(l.diagnostics);
    }

    // Symbols.
    let mut syms = Symbols::default();
    let mut plans: Vec<Option<Plan>> = (0..n).map(|_| None).collect();
    let mut top_syms: HashMap<(ModuleId, Id), SymId> = HashMap::new();
    let mut ns_sym: HashMap<ModuleId, SymId> = HashMap::new();
    let mut wrap_sym: HashMap<ModuleId, SymId> = HashMap::new();
    // The runtime first, so its helpers keep their names.
    let order: Vec<ModuleId> = std::iter::once(opts.runtime)
        .chain((0..n).filter(|&i| i != opts.runtime))
        .collect();
    for &i in &order {
        if !needed[i] {
            continue;
        }
        let Some(j) = js(&modules[i]) else { continue };
        let stem = super::ident_stem(&modules[i].name);
        let mut plan = Plan::default();
        match wrap[i] {
            Some(true) => {
                let s = syms.add(&format!("require_{stem}"), 2);
                wrap_sym.insert(i, s);
                plan.wrap = Some(Wrap::Cjs(s));
            }
            w => {
                if w == Some(false) {
                    let s = syms.add(&format!("init_{stem}"), 2);
                    wrap_sym.insert(i, s);
                    plan.wrap = Some(Wrap::Esm(s));
                } else {
                    plan.wrap = Some(Wrap::None);
                }
                for (id, count) in &j.top_level {
                    let s = syms.add(&id.0, *count);
                    top_syms.insert((i, id.clone()), s);
                    plan.renames.insert(id.clone(), s);
                }
            }
        }
        if materialize.contains(&i) {
            ns_sym.insert(i, syms.add(&format!("{stem}_exports"), 2));
        }
        plans[i] = Some(plan);
    }
    let helper_names = [
        "__commonJS",
        "__esm",
        "__export",
        "__toESM",
        "__toCommonJS",
        "__loadCss",
    ];
    let mut helpers: BTreeMap<&'static str, SymId> = BTreeMap::new();
    if let Some(j) = js(&modules[opts.runtime]) {
        for h in helper_names {
            if let Some((id, _)) = j.top_level.iter().find(|(id, _)| &*id.0 == h)
                && let Some(&s) = top_syms.get(&(opts.runtime, id.clone()))
            {
                helpers.insert(h, s);
            }
        }
    }
    // Stylesheets and assets of each entry point (an IIFE's lazy modules
    // are in its script, so their CSS is in its stylesheet).
    let entry_styles: Vec<(Vec<ModuleId>, BTreeSet<ModuleId>)> = entry_points
        .iter()
        .map(|&entry| styles_of(modules, &needed, entry, opts.format == OutFormat::Iife))
        .collect();

    // Per-module plans: imports, calls, preludes.
    let mut cross_uses: Vec<(ModuleId, SymId)> = Vec::new(); // (user, symbol)
    let mut owner: HashMap<SymId, ModuleId> = HashMap::new();
    for (&(m, _), &s) in &top_syms {
        owner.insert(s, m);
    }
    for (&m, &s) in ns_sym.iter().chain(wrap_sym.iter()) {
        owner.insert(s, m);
    }
    let mut import_vars: HashMap<(ModuleId, ModuleId), SymId> = HashMap::new();
    let mut raw_vars: HashMap<(ModuleId, ModuleId), SymId> = HashMap::new();
    let mut extra_syms: Vec<(SymId, ModuleId)> = Vec::new();
    let mut postludes: HashMap<ModuleId, Vec<Prelude>> = HashMap::new();
    for m in 0..n {
        if !needed[m] {
            continue;
        }
        let Some(j) = js(&modules[m]) else { continue };
        let mut plan = plans[m].take().unwrap_or_default();
        let mut prelude: Vec<Prelude> = Vec::new();
        let mut v = Vars {
            syms: &mut syms,
            postludes: &mut postludes,
            lazy: matches!(plan.wrap, Some(Wrap::Esm(_))),
            import_vars: &mut import_vars,
            raw_vars: &mut raw_vars,
            extra: &mut extra_syms,
            modules,
            wrap_sym: &wrap_sym,
            top_syms: &top_syms,
            ns_sym: &ns_sym,
            m,
            node_mode: j.node_mode,
        };
        // Static dependencies, in order: CommonJS ones are required where
        // they are imported; lazily run ES modules are initialised there.
        let mut seen_targets = BTreeSet::new();
        for r in &modules[m].records {
            if r.kind != RecordKind::Static {
                continue;
            }
            if let Target::Module(t) = r.target
                && needed[t]
                && seen_targets.insert(t)
            {
                match wrap[t] {
                    Some(true) => {
                        v.import_var(t, &mut prelude);
                    }
                    Some(false) => {
                        if let Some(&s) = wrap_sym.get(&t) {
                            prelude.push(Prelude::Init(s));
                        }
                    }
                    None => {}
                }
            }
        }
        for (i, imp) in j.imports.iter().enumerate() {
            let r = resolved.get(&(m, i)).cloned().unwrap_or(Res::Undefined);
            if imp.what == Imported::Namespace && imp.member_only && matches!(r, Res::Namespace(_))
            {
                // `ns.prop` resolves statically; the object is not built.
                if let Res::Namespace(t) = r {
                    plan.imports.insert(
                        imp.local.clone(),
                        ns_sym.get(&t).map_or(Repl::EmptyObject, |&s| Repl::Sym(s)),
                    );
                    for name in l.export_names(t, &mut HashSet::new()) {
                        let rr = l.resolve_export(t, &name, &mut Vec::new());
                        let repl = v.repl(&rr, &mut prelude);
                        plan.members.insert((imp.local.clone(), name), repl);
                    }
                }
                continue;
            }
            let repl = match r {
                // TypeScript without `esModuleInterop`: `module.exports`
                // itself, so `ns()` works as tsc compiled it.
                Res::CjsNamespace(o) if imp.what == Imported::Namespace && j.raw_namespaces => {
                    Repl::Sym(v.raw_var(o, &mut prelude))
                }
                _ => v.repl(&r, &mut prelude),
            };
            // The binding is read wherever it is imported: that counts
            // toward its short name.
            if let Repl::Sym(s) | Repl::Member(s, _) = &repl {
                v.syms.count[*s] += imp.count;
            }
            plan.imports.insert(imp.local.clone(), repl);
        }
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
                            Some(ExportFrom::Local(id)) => top_syms.get(&(t, id.clone())).copied(),
                            _ => None,
                        });
                    let repl = match (&modules[t].body, wrap[t]) {
                        _ if json_value.is_some() => CallRepl::Value(json_value.unwrap_or(0)),
                        (Body::Js(_), Some(true)) => {
                            CallRepl::Call(wrap_sym.get(&t).copied().unwrap_or(0))
                        }
                        (Body::Js(_), _) => CallRepl::ToCommonJs {
                            init: wrap_sym.get(&t).copied(),
                            ns: ns_sym.get(&t).copied().unwrap_or(0),
                        },
                        _ => CallRepl::Empty,
                    };
                    plan.calls.insert(r.pos, repl);
                }
                RecordKind::Dynamic if js(&modules[t]).is_some() => {
                    if opts.format == OutFormat::Esm {
                        let e = entry_points.iter().position(|&x| x == t).unwrap_or(0);
                        plan.calls.insert(
                            r.pos,
                            CallRepl::Chunk {
                                entry: e,
                                ns: ns_sym.contains_key(&t),
                                css: !entry_styles[e].0.is_empty(),
                            },
                        );
                    } else {
                        let repl = match wrap[t] {
                            Some(true) => CallRepl::InlineCjs {
                                require: wrap_sym.get(&t).copied().unwrap_or(0),
                                node_mode: j.node_mode,
                            },
                            _ => CallRepl::Inline {
                                init: wrap_sym.get(&t).copied(),
                                ns: ns_sym.get(&t).copied().unwrap_or(0),
                            },
                        };
                        plan.calls.insert(r.pos, repl);
                    }
                }
                RecordKind::Url => match entry_points.iter().position(|&x| x == t) {
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
        if let Some(&ns) = ns_sym.get(&m) {
            let mut members = Vec::new();
            for name in l.export_names(m, &mut HashSet::new()) {
                let r = l.resolve_export(m, &name, &mut Vec::new());
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
    for (s, m) in extra_syms {
        owner.insert(s, m);
    }
    for (t, list) in postludes {
        if let Some(p) = plans[t].as_mut() {
            p.postlude = list;
        }
    }
    // Which symbols each module uses from elsewhere.
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

    // Evaluation order and chunk membership: a DFS over static edges from
    // each entry point, through modules left out too (their dependencies
    // still run where they would have).
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
    // The runtime goes with its users.
    let runtime_users: Vec<ModuleId> = (0..n)
        .filter(|&m| {
            needed[m]
                && m != opts.runtime
                && plans[m].as_ref().is_some_and(|p| uses_helpers(p, &helpers))
        })
        .collect();
    let mut runtime_reach = vec![0u64; words];
    for &u in &runtime_users {
        for (w, bits) in runtime_reach.iter_mut().zip(&reach[u]) {
            *w |= bits;
        }
    }
    reach[opts.runtime] = runtime_reach;
    order_index[opts.runtime] = 0;

    // Chunks: one per entry point, plus one per other reach set.
    let mut chunks: Vec<ChunkPlan> = Vec::new();
    let mut chunk_of_set: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    for e in 0..entry_points.len() {
        let mut set = vec![0u64; words];
        set[e / 64] |= 1 << (e % 64);
        chunk_of_set.insert(set, chunks.len());
        chunks.push(ChunkPlan {
            entry: Some(e),
            ..ChunkPlan::default()
        });
    }
    let mut members: Vec<ModuleId> = (0..n)
        .filter(|&m| needed[m] && order_index[m] != usize::MAX)
        .collect();
    members.sort_by_key(|&m| (order_index[m] != 0 || m != opts.runtime, order_index[m], m));
    let mut chunk_of = vec![usize::MAX; n];
    for &m in &members {
        if reach[m].iter().all(|w| *w == 0) {
            continue;
        }
        if opts.format == OutFormat::Iife {
            // Classic scripts cannot import each other: every entry's
            // script holds all it needs (names are unique across the
            // build, so one module's code serves every script).
            if matches!(modules[m].body, Body::Js(_)) {
                for (e, chunk) in chunks.iter_mut().enumerate().take(entry_points.len()) {
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

    // Keep sets and cross-chunk imports.
    for s in head_uses {
        if let Some(&o) = owner.get(&s)
            && let Some(p) = plans[o].as_mut()
        {
            p.keep.insert(s);
        }
    }
    let helper_set: BTreeSet<SymId> = helpers.values().copied().collect();
    for (user, s) in cross_uses {
        let Some(&o) = owner.get(&s) else { continue };
        if o != user
            && let Some(p) = plans[o].as_mut()
        {
            p.keep.insert(s);
        }
        let (cu, co) = (chunk_of[user], chunk_of[o]);
        if cu != usize::MAX && co != usize::MAX && cu != co {
            chunks[cu].imports.entry(co).or_default().insert(s);
            chunks[co].exports.insert(s);
        }
    }
    for &u in &runtime_users {
        let Some(p) = plans[u].as_ref() else { continue };
        let used_here: Vec<SymId> = helper_set
            .iter()
            .copied()
            .filter(|h| plan_uses(p, *h, &helpers))
            .collect();
        for h in used_here {
            if let Some(rp) = plans[opts.runtime].as_mut() {
                rp.keep.insert(h);
            }
            let (cu, co) = (chunk_of[u], chunk_of[opts.runtime]);
            if cu != usize::MAX && co != usize::MAX && cu != co {
                chunks[cu].imports.entry(co).or_default().insert(h);
                chunks[co].exports.insert(h);
            }
        }
    }
    // Static chunk dependencies without names still order evaluation.
    for &m in &members {
        for r in &modules[m].records {
            if r.kind == RecordKind::Static
                && let Target::Module(t) = r.target
                && needed[t]
            {
                let (cm, ct) = (chunk_of[m], chunk_of[t]);
                if cm != usize::MAX && ct != usize::MAX && cm != ct && js(&modules[t]).is_some() {
                    chunks[cm].imports.entry(ct).or_default();
                }
            }
            if r.kind == RecordKind::Dynamic
                && let Target::Module(t) = r.target
                && let Some(e) = entry_points.iter().position(|&x| x == t)
                && chunk_of[m] != usize::MAX
                && opts.format == OutFormat::Esm
            {
                chunks[chunk_of[m]].dynamic.insert(e);
            }
        }
    }

    // Entry exports.
    for (e, mut list) in entry_exports.into_iter().enumerate() {
        let entry = entry_points[e];
        let c = e;
        if dynamic_targets.contains(&entry) && ns_sym.contains_key(&entry) {
            list.push((Atom::from(NS_EXPORT), Res::Namespace(entry)));
        }
        if wrap[entry] == Some(true)
            && let Some(&s) = wrap_sym.get(&entry)
        {
            chunks[c].entry_cjs = Some(s);
            let co = chunk_of[entry];
            if co != usize::MAX && co != c {
                chunks[c].imports.entry(co).or_default().insert(s);
                chunks[co].exports.insert(s);
            }
            if let Some(p) = plans[entry].as_mut() {
                p.keep.insert(s);
            }
        }
        let mut exports = Vec::new();
        for (name, r) in list {
            let repl = match &r {
                Res::Binding(o, id) => top_syms
                    .get(&(*o, id.clone()))
                    .map_or(Repl::Undefined, |&s| Repl::Sym(s)),
                Res::Namespace(o) => ns_sym.get(o).map_or(Repl::EmptyObject, |&s| Repl::Sym(s)),
                Res::CjsProp(o, p) => match import_vars.get(&(entry, *o)) {
                    Some(&v) => Repl::Member(v, p.clone()),
                    None => Repl::Undefined,
                },
                Res::CjsNamespace(o) => import_vars
                    .get(&(entry, *o))
                    .map_or(Repl::Undefined, |&v| Repl::Sym(v)),
                Res::Asset(o) => Repl::Url(*o),
                _ => Repl::Undefined,
            };
            if let Repl::Sym(s) | Repl::Member(s, _) = &repl
                && let Some(&o) = owner.get(s)
            {
                if let Some(p) = plans[o].as_mut() {
                    p.keep.insert(*s);
                }
                let co = chunk_of[o];
                if co != usize::MAX && co != c {
                    chunks[c].imports.entry(co).or_default().insert(*s);
                    chunks[co].exports.insert(*s);
                }
            }
            exports.push((name, repl));
        }
        chunks[c].entry_exports = exports;
        chunks[c].entry_namespace = ns_sym.get(&entry).copied();
        if let Some(ns) = chunks[c].entry_namespace
            && let Some(p) = plans[entry].as_mut()
        {
            p.keep.insert(ns);
        }
        // An entry module that sits in a shared chunk: its entry chunk
        // imports that chunk.
        let ce = chunk_of[entry];
        if ce != usize::MAX && ce != c {
            chunks[c].imports.entry(ce).or_default();
        }
    }

    for (e, (css, assets)) in entry_styles.into_iter().enumerate() {
        chunks[e].css = css;
        chunks[e].assets = assets;
    }

    // Final names: unique across the build, never a global any module
    // reads, nor a reserved word. Minified builds get short names, the
    // most used first.
    let mut reserved: HashSet<String> = RESERVED.iter().map(|s| (*s).to_string()).collect();
    for (i, m) in modules.iter().enumerate() {
        if needed[i]
            && let Some(j) = js(m)
        {
            reserved.extend(j.globals_used.iter().map(ToString::to_string));
        }
    }
    let names = if opts.minify {
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
    } else {
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
    };

    Ok(Linked {
        entry_points,
        plans,
        chunks,
        names,
        helpers,
        warnings,
    })
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
#[allow(clippy::struct_field_names)] // import_vars are the variables
struct Vars<'x> {
    syms: &'x mut Symbols,
    /// Import variables set at their `CommonJS` module, by module.
    postludes: &'x mut HashMap<ModuleId, Vec<Prelude>>,
    /// The importer runs lazily (its variables are set in its closure).
    lazy: bool,
    import_vars: &'x mut HashMap<(ModuleId, ModuleId), SymId>,
    /// `module.exports` itself, for namespace imports of files compiled
    /// without `esModuleInterop`.
    raw_vars: &'x mut HashMap<(ModuleId, ModuleId), SymId>,
    extra: &'x mut Vec<(SymId, ModuleId)>,
    modules: &'x [ModuleData],
    wrap_sym: &'x HashMap<ModuleId, SymId>,
    top_syms: &'x HashMap<(ModuleId, Id), SymId>,
    ns_sym: &'x HashMap<ModuleId, SymId>,
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
        let vars = if interop {
            &mut *self.import_vars
        } else {
            &mut *self.raw_vars
        };
        if let Some(&v) = vars.get(&(self.m, t)) {
            return v;
        }
        let v = self.syms.add(
            &format!("import_{}", super::ident_stem(&self.modules[t].name)),
            4,
        );
        vars.insert((self.m, t), v);
        let require = self.wrap_sym.get(&t).copied().unwrap_or(0);
        let var = Prelude::ImportVar {
            var: v,
            require,
            node_mode: self.node_mode,
            interop,
        };
        if self.lazy {
            self.extra.push((v, self.m));
            prelude.push(var);
        } else {
            self.extra.push((v, t));
            self.postludes.entry(t).or_default().push(var);
        }
        v
    }

    fn repl(&mut self, r: &Res, prelude: &mut Vec<Prelude>) -> Repl {
        match r {
            Res::Binding(o, id) => self
                .top_syms
                .get(&(*o, id.clone()))
                .map_or(Repl::Undefined, |&s| Repl::Sym(s)),
            Res::Namespace(o) => self
                .ns_sym
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
