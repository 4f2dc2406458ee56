//! What every compiler job shares, and nothing else: the worker pool with
//! its big stacks, the panic guard that turns a compiler panic into an
//! `INTERNAL` diagnostic, and the UTF-8 reader. A leaf: the stages call
//! it; it calls no stage.

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use crate::diagnostics::{Category, Diagnostic};

/// Stack size of compile threads. swc and lightningcss recurse about 3 KiB
/// per nesting level and a stack overflow aborts the process, so the stack
/// is large (it is virtual memory: only touched pages are committed) and
/// nesting is bounded before parsing.
pub const STACK_SIZE: usize = 1 << 30;

/// The worker pool of a build: `threads` workers with [`STACK_SIZE`]
/// stacks.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, Diagnostic> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(STACK_SIZE)
        .thread_name(|i| format!("prebake-{i}"))
        .build()
        .map_err(|e| {
            Diagnostic::error(
                "IO",
                Category::Io,
                format!("cannot start worker threads: {e}"),
            )
        })
}

/// A source file's text (a UTF-8 byte-order mark dropped), or an
/// `ENCODING` error naming the first invalid byte.
pub fn utf8_text<'a>(bytes: &'a [u8], shown: &str) -> Result<&'a str, Diagnostic> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(t.strip_prefix('\u{feff}').unwrap_or(t)),
        Err(e) => Err(Diagnostic::error(
            "ENCODING",
            Category::Input,
            format!(
                "{shown} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
        .with_file(shown)
        .with_help("save the file as UTF-8")),
    }
}

/// Runs a compiler job: a panic becomes an `INTERNAL` error naming the
/// file and the compiler (`stage`), and is not printed.
pub fn guarded<T>(
    shown: &str,
    stage: &str,
    job: impl FnOnce() -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    install_panic_hook();
    let was = IN_JOB.with(|f| f.replace(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(job));
    IN_JOB.with(|f| f.set(was));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let msg = PANIC_MESSAGE
                .with(|m| m.borrow_mut().take())
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(vec![
                Diagnostic::error(
                    "INTERNAL",
                    Category::Internal,
                    format!("internal compiler error ({stage}) while compiling {shown}"),
                )
                .with_file(shown)
                .with_note(msg)
                .with_help("this is a bug; please report it with the file that triggers it"),
            ])
        }
    }
}

thread_local! {
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Inside compile jobs a panic is recorded for the diagnostic instead of
/// being printed; elsewhere the previous hook runs.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_JOB.with(Cell::get) {
                let text = info.to_string();
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}
