//! The machinery behind the key table in `keys.rs`: the `settings!` and
//! `choice!` macros, and how each value type is read from `prebake.toml`
//! and from flags. Nothing here names a key; a key is one row of the table.
//!
//! Why a `macro_rules!` table rather than one struct deriving both serde
//! and clap: a config file's errors name the key with a code frame at the
//! value and a "did you mean" (serde's messages would replace them); every
//! key is optional so that defaults, the file, the profile and the flags
//! layer, while clap and serde each want their own notion of a default;
//! and flags differ from keys in shape (`--minify`/`--no-minify` for one
//! bool, `--entry` repeated for `entries`, `--define NAME=EXPR` for a
//! table). The table states those differences in one row per key, and
//! everything else is generated from it.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The command-line shape of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `--long VALUE`.
    Value {
        long: &'static str,
        value_name: &'static str,
    },
    /// `--long VALUE`, repeatable: each adds one.
    Repeat {
        long: &'static str,
        value_name: &'static str,
    },
    /// Switches for a bool: `on` sets it (its help is the key's), `off`
    /// clears it (with `off_help`); either may be absent.
    Switch {
        on: Option<&'static str>,
        off: Option<&'static str>,
        off_help: &'static str,
    },
}

impl Flag {
    /// `--long VALUE`.
    pub const fn value(long: &'static str, value_name: &'static str) -> Flag {
        Flag::Value { long, value_name }
    }

    /// `--long VALUE`, repeatable.
    pub const fn repeat(long: &'static str, value_name: &'static str) -> Flag {
        Flag::Repeat { long, value_name }
    }

    /// A switch that turns a bool on.
    pub const fn on(long: &'static str) -> Flag {
        Flag::Switch {
            on: Some(long),
            off: None,
            off_help: "",
        }
    }

    /// A switch that turns a bool off, with its own help.
    pub const fn off(long: &'static str, help: &'static str) -> Flag {
        Flag::Switch {
            on: None,
            off: Some(long),
            off_help: help,
        }
    }

    /// A pair of switches, the last given wins.
    pub const fn on_off(on: &'static str, off: &'static str, off_help: &'static str) -> Flag {
        Flag::Switch {
            on: Some(on),
            off: Some(off),
            off_help,
        }
    }

    /// Every flag of the key, as typed (`--minify`, `--no-minify`).
    pub fn names(&self) -> Vec<&'static str> {
        match *self {
            Flag::Value { long, .. } | Flag::Repeat { long, .. } => vec![long],
            Flag::Switch { on, off, .. } => on.into_iter().chain(off).collect(),
        }
    }

    /// The flag that gives a value: for a switch, the one that sets
    /// `switch` (`--no-minify` for false).
    pub fn typed(&self, switch: Option<bool>) -> &'static str {
        match *self {
            Flag::Value { long, .. } | Flag::Repeat { long, .. } => long,
            Flag::Switch { on, off, .. } => match (switch, on, off) {
                (Some(false), _, Some(off)) | (_, None, Some(off)) => off,
                (_, Some(on), _) => on,
                // A switch with neither flag: nothing a user can type.
                (_, None, None) => "",
            },
        }
    }
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The name in `prebake.toml` (and in messages about the file).
    pub name: &'static str,
    pub flag: Flag,
    /// The flag's help; value flags get ` [default: …]` added from
    /// `default`.
    pub help: &'static str,
    /// The default as `prebake.toml` writes it, for help and docs; `None`
    /// when there is none. The release profile's (`prebake watch` changes
    /// some, see `Profile`).
    pub default: fn() -> Option<toml::Value>,
}

impl Key {
    /// The default as `prebake.toml` writes it (`"sha384"`, `["**"]`).
    pub fn default_toml(&self) -> Option<toml::Value> {
        (self.default)()
    }

    /// The default as help shows it: strings bare, arrays joined by commas
    /// (`**`); `None` for an empty array or no default.
    pub fn default_shown(&self) -> Option<String> {
        fn shown(v: &toml::Value) -> String {
            match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Array(a) => a.iter().map(shown).collect::<Vec<_>>().join(", "),
                other => other.to_string(),
            }
        }
        self.default_toml()
            .filter(|v| !matches!(v, toml::Value::Array(a) if a.is_empty()))
            .map(|v| shown(&v))
    }

    /// The flag's help text: a value flag's ends with its default.
    pub fn help_text(&self) -> String {
        match (self.flag, self.default_shown()) {
            (Flag::Value { .. } | Flag::Repeat { .. }, Some(d)) => {
                format!("{} [default: {d}]", self.help)
            }
            _ => self.help.to_string(),
        }
    }
}

/// Why a `prebake.toml` value was refused.
#[derive(Debug)]
pub enum Reject {
    /// The wrong TOML type: what was expected ("a string").
    Type(&'static str),
    /// The right type but not an allowed value: what is wrong with it.
    Value(String),
}

/// A setting's value type: how `prebake.toml` writes it and how a flag's
/// value layers over the file's.
pub trait SettingValue: Clone + Sized {
    fn from_toml(v: &toml::Value) -> Result<Self, Reject>;
    fn to_toml(&self) -> toml::Value;
    /// `over` (flags) laid over `under` (the file): the first that is set.
    fn layer(over: Option<&Self>, under: Option<&Self>) -> Option<Self> {
        over.or(under).cloned()
    }
    /// A bool's value, to name the switch that gave it.
    fn as_switch(&self) -> Option<bool> {
        None
    }
}

impl SettingValue for String {
    fn from_toml(v: &toml::Value) -> Result<Self, Reject> {
        v.as_str()
            .map(str::to_string)
            .ok_or(Reject::Type("a string"))
    }
    fn to_toml(&self) -> toml::Value {
        toml::Value::String(self.clone())
    }
}

impl SettingValue for PathBuf {
    fn from_toml(v: &toml::Value) -> Result<Self, Reject> {
        String::from_toml(v).map(PathBuf::from)
    }
    fn to_toml(&self) -> toml::Value {
        toml::Value::String(self.to_string_lossy().into_owned())
    }
}

impl SettingValue for bool {
    fn from_toml(v: &toml::Value) -> Result<Self, Reject> {
        v.as_bool().ok_or(Reject::Type("true or false"))
    }
    fn to_toml(&self) -> toml::Value {
        toml::Value::Boolean(*self)
    }
    fn as_switch(&self) -> Option<bool> {
        Some(*self)
    }
}

impl SettingValue for usize {
    fn from_toml(v: &toml::Value) -> Result<Self, Reject> {
        v.as_integer()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(Reject::Type("a positive integer"))
    }
    fn to_toml(&self) -> toml::Value {
        i64::try_from(*self).map_or_else(
            |_| toml::Value::String(self.to_string()),
            toml::Value::Integer,
        )
    }
}

/// A list: one string, or an array of strings.
impl SettingValue for Vec<String> {
    fn from_toml(v: &toml::Value) -> Result<Self, Reject> {
        match v {
            toml::Value::String(s) => Ok(vec![s.clone()]),
            toml::Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or(Reject::Type("an array of strings"))
                })
                .collect(),
            _ => Err(Reject::Type("a string or an array of strings")),
        }
    }
    fn to_toml(&self) -> toml::Value {
        toml::Value::Array(self.iter().cloned().map(toml::Value::String).collect())
    }
}

/// A table of strings; flags add to (and override) the file's entries.
impl SettingValue for BTreeMap<String, String> {
    fn from_toml(v: &toml::Value) -> Result<Self, Reject> {
        let table = v.as_table().ok_or(Reject::Type("a table of strings"))?;
        table
            .iter()
            .map(|(name, value)| {
                value
                    .as_str()
                    .map(|value| (name.clone(), value.to_string()))
                    .ok_or(Reject::Type("a table of strings"))
            })
            .collect()
    }
    fn to_toml(&self) -> toml::Value {
        toml::Value::Table(
            self.iter()
                .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
                .collect(),
        )
    }
    fn layer(over: Option<&Self>, under: Option<&Self>) -> Option<Self> {
        if over.is_none() && under.is_none() {
            return None;
        }
        let mut m = under.cloned().unwrap_or_default();
        m.extend(over.cloned().unwrap_or_default());
        Some(m)
    }
}

/// An enum setting with a closed set of values, declared with `choice!`.
pub trait Choice: Copy + Send + Sync + 'static {
    /// What a value is, for messages ("bundle format").
    const WHAT: &'static str;
    /// Every value's name, in the order messages list them.
    const NAMES: &'static [&'static str];
    fn from_name(s: &str) -> Option<Self>;
}

/// [`SettingValue::from_toml`] of a [`Choice`].
pub fn choice_from_toml<T: Choice>(v: &toml::Value) -> Result<T, Reject> {
    let s = v.as_str().ok_or(Reject::Type("a string"))?;
    T::from_name(s).ok_or_else(|| {
        Reject::Value(format!(
            "unknown {} `{s}` (expected {})",
            T::WHAT,
            alternatives(T::NAMES)
        ))
    })
}

/// `a, b or c`.
fn alternatives(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Declares an enum setting: its values and their names, in the order
/// messages list them, and what a value is called ("bundle format").
macro_rules! choice {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The value as `prebake.toml` and the flag write it.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value a name stands for.
            pub fn from_name(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl $crate::config::declare::Choice for $name {
            const WHAT: &'static str = $what;
            const NAMES: &'static [&'static str] = &[$($text),*];
            fn from_name(s: &str) -> Option<Self> {
                $name::from_name(s)
            }
        }

        impl $crate::config::declare::SettingValue for $name {
            fn from_toml(v: &toml::Value) -> Result<Self, $crate::config::declare::Reject> {
                $crate::config::declare::choice_from_toml(v)
            }
            fn to_toml(&self) -> toml::Value {
                toml::Value::String(self.name().to_string())
            }
        }

        #[cfg(feature = "cli")]
        impl $crate::config::declare::FromFlags for $name {
            fn args(key: &$crate::config::declare::Key) -> Vec<clap::Arg> {
                $crate::config::declare::flags::choice_args::<$name>(key)
            }
            fn from_matches(
                key: &$crate::config::declare::Key,
                m: &clap::ArgMatches,
            ) -> Result<Option<Self>, clap::Error> {
                $crate::config::declare::flags::single(key, m)
            }
        }
    };
}

/// The reader of a key's `prebake.toml` value: the type's own, or the
/// function the row names.
macro_rules! toml_reader {
    ($ty:ty) => {
        <$ty as $crate::config::declare::SettingValue>::from_toml
    };
    ($ty:ty, $reader:path) => {
        $reader
    };
}

/// A row's default as TOML, `None` without one.
macro_rules! default_toml {
    ($ty:ty;) => {
        None
    };
    ($ty:ty; $default:expr) => {{
        let value: $ty = $default;
        Some($crate::config::declare::SettingValue::to_toml(&value))
    }};
}

/// Declares every key from one table; see `keys.rs`. Generates
/// `Settings` (one `Option` per key), `Defaults`, `KEYS`, `KEY_TABLE`, the
/// layering of flags over the file, the `prebake.toml` reader's dispatch
/// and the clap flags.
macro_rules! settings {
    ($(
        $name:literal => $field:ident: $ty:ty {
            flag: $flag:expr,
            $(default: $default:expr,)?
            $(toml: $reader:path,)?
            help: $help:literal $(,)?
        }
    ),* $(,)?) => {
        /// The keys of `prebake.toml`, which flags and build scripts set
        /// too; every field is optional so that the file and the flags can
        /// be layered. Declared in the key table (`config/keys.rs`).
        #[derive(Debug, Clone, Default)]
        pub struct Settings {
            $(#[doc = $help] pub $field: Option<$ty>,)*
        }

        /// The default of every key that has one (the release profile's).
        #[derive(Debug, Clone)]
        pub struct Defaults {
            $($(#[doc = concat!("`", stringify!($default), "`")] pub $field: $ty,)?)*
        }

        impl Default for Defaults {
            fn default() -> Defaults {
                Defaults {
                    $($($field: $default,)?)*
                }
            }
        }

        /// Every key `prebake.toml` accepts, in table order.
        pub const KEYS: &[&str] = &[$($name),*];

        /// Every key with its flag, help and default, in table order.
        pub const KEY_TABLE: &[$crate::config::declare::Key] = &[$(key::$field),*];

        /// One constant per row, named as its `Settings` field.
        #[allow(non_upper_case_globals)]
        mod key {
            use super::*;
            $(
                pub const $field: $crate::config::declare::Key = $crate::config::declare::Key {
                    name: $name,
                    flag: $flag,
                    help: $help,
                    default: {
                        fn default() -> Option<toml::Value> {
                            default_toml!($ty; $($default)?)
                        }
                        default
                    },
                };
            )*
        }

        impl Settings {
            /// Whether `key` is set here.
            pub fn is_set(&self, key: &str) -> bool {
                match key {
                    $($name => self.$field.is_some(),)*
                    _ => false,
                }
            }

            /// The flag that gives `key` its value here, as a user types
            /// it (`--entry`, `--no-minify`); `None` when it is not set.
            pub fn flag_of(&self, key: &str) -> Option<&'static str> {
                match key {
                    $($name => self.$field.as_ref().map(|v| {
                        key::$field.flag.typed($crate::config::declare::SettingValue::as_switch(v))
                    }),)*
                    _ => None,
                }
            }

            /// `over` laid over `under`, key by key: flags over the file.
            pub fn layer(over: &Settings, under: &Settings) -> Settings {
                Settings {
                    $($field: $crate::config::declare::SettingValue::layer(
                        over.$field.as_ref(),
                        under.$field.as_ref(),
                    ),)*
                }
            }

            /// Sets `key` from its `prebake.toml` value; `None` for a key
            /// that does not exist.
            pub(super) fn set_from_toml(
                &mut self,
                key: &str,
                v: &toml::Value,
            ) -> Option<Result<(), $crate::config::declare::Reject>> {
                match key {
                    $($name => Some(toml_reader!($ty $(, $reader)?)(v).map(|x| {
                        self.$field = Some(x);
                    })),)*
                    _ => None,
                }
            }
        }

        #[cfg(feature = "cli")]
        impl Settings {
            /// Adds the flags of the keys `keep` selects, in table order.
            pub(crate) fn add_flags(mut cmd: clap::Command, keep: fn(&str) -> bool) -> clap::Command {
                $(if keep($name) {
                    cmd = cmd.args(<$ty as $crate::config::declare::FromFlags>::args(&key::$field));
                })*
                cmd
            }

            /// The settings the flags of the keys `keep` selects give.
            pub(crate) fn from_flags(
                m: &clap::ArgMatches,
                keep: fn(&str) -> bool,
            ) -> Result<Settings, clap::Error> {
                let mut s = Settings::default();
                $(if keep($name) {
                    s.$field = <$ty as $crate::config::declare::FromFlags>::from_matches(&key::$field, m)?;
                })*
                Ok(s)
            }
        }
    };
}

#[cfg(feature = "cli")]
pub use flags::FromFlags;

/// How each value type becomes clap arguments and comes back from them.
#[cfg(feature = "cli")]
pub mod flags {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use clap::builder::{PossibleValuesParser, TypedValueParser as _, ValueParser};
    use clap::{Arg, ArgAction, ArgMatches};

    use super::{Choice, Flag, Key};

    /// A setting's value type as flags give it.
    pub trait FromFlags: Sized {
        /// The key's clap arguments (none when the flag's shape does not
        /// fit the type; a test checks that every key has some).
        fn args(key: &Key) -> Vec<Arg>;
        fn from_matches(key: &Key, m: &ArgMatches) -> Result<Option<Self>, clap::Error>;
    }

    /// The clap id of a flag: its name without the dashes.
    fn id(long: &'static str) -> &'static str {
        long.trim_start_matches("--")
    }

    /// A flag the arguments did not declare: a bug of ours, reported
    /// rather than panicking.
    #[allow(clippy::needless_pass_by_value)] // used as map_err(internal)
    fn internal(e: clap::parser::MatchesError) -> clap::Error {
        clap::Error::raw(clap::error::ErrorKind::InvalidValue, e.to_string())
    }

    fn single_arg(key: &Key, parser: impl Into<ValueParser>) -> Vec<Arg> {
        match key.flag {
            Flag::Value { long, value_name } => vec![
                Arg::new(id(long))
                    .long(id(long))
                    .value_name(value_name)
                    .help(key.help_text())
                    .action(ArgAction::Set)
                    .value_parser(parser),
            ],
            _ => Vec::new(),
        }
    }

    /// The value of a `--long VALUE` flag.
    pub fn single<T: Clone + Send + Sync + 'static>(
        key: &Key,
        m: &ArgMatches,
    ) -> Result<Option<T>, clap::Error> {
        match key.flag {
            Flag::Value { long, .. } => m
                .try_get_one::<T>(id(long))
                .map(Option::<&T>::cloned)
                .map_err(internal),
            _ => Ok(None),
        }
    }

    pub fn choice_args<T: Choice>(key: &Key) -> Vec<Arg> {
        single_arg(
            key,
            PossibleValuesParser::new(T::NAMES).try_map(|s: String| {
                T::from_name(&s).ok_or_else(|| format!("unknown {} `{s}`", T::WHAT))
            }),
        )
    }

    macro_rules! single_value {
        ($($ty:ty),*) => {$(
            impl FromFlags for $ty {
                fn args(key: &Key) -> Vec<Arg> {
                    single_arg(key, clap::value_parser!($ty))
                }
                fn from_matches(key: &Key, m: &ArgMatches) -> Result<Option<Self>, clap::Error> {
                    single(key, m)
                }
            }
        )*};
    }
    single_value!(String, PathBuf, usize);

    /// Each `--long VALUE` of a repeatable flag, in order.
    fn repeated(key: &Key, m: &ArgMatches) -> Result<Vec<String>, clap::Error> {
        match key.flag {
            Flag::Repeat { long, .. } => Ok(m
                .try_get_many::<String>(id(long))
                .map_err(internal)?
                .map(|values| values.cloned().collect())
                .unwrap_or_default()),
            _ => Ok(Vec::new()),
        }
    }

    fn repeat_args(key: &Key) -> Vec<Arg> {
        match key.flag {
            Flag::Repeat { long, value_name } => vec![
                Arg::new(id(long))
                    .long(id(long))
                    .value_name(value_name)
                    .help(key.help_text())
                    .action(ArgAction::Append)
                    .value_parser(clap::value_parser!(String)),
            ],
            _ => Vec::new(),
        }
    }

    impl FromFlags for Vec<String> {
        fn args(key: &Key) -> Vec<Arg> {
            repeat_args(key)
        }
        fn from_matches(key: &Key, m: &ArgMatches) -> Result<Option<Self>, clap::Error> {
            let values = repeated(key, m)?;
            Ok((!values.is_empty()).then_some(values))
        }
    }

    /// `NAME=VALUE` pairs; a bare `NAME` is `NAME=true`.
    impl FromFlags for BTreeMap<String, String> {
        fn args(key: &Key) -> Vec<Arg> {
            repeat_args(key)
        }
        fn from_matches(key: &Key, m: &ArgMatches) -> Result<Option<Self>, clap::Error> {
            let values = repeated(key, m)?;
            Ok((!values.is_empty()).then(|| {
                values
                    .iter()
                    .map(|d| match d.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (d.clone(), "true".to_string()),
                    })
                    .collect()
            }))
        }
    }

    impl FromFlags for bool {
        fn args(key: &Key) -> Vec<Arg> {
            let Flag::Switch { on, off, off_help } = key.flag else {
                return Vec::new();
            };
            let switch = |long: &'static str, help: &'static str, other: Option<&'static str>| {
                let arg = Arg::new(id(long))
                    .long(id(long))
                    .help(help)
                    .action(ArgAction::SetTrue);
                match other {
                    Some(other) => arg.overrides_with(id(other)),
                    None => arg,
                }
            };
            let mut args = Vec::new();
            if let Some(long) = on {
                args.push(switch(long, key.help, off));
            }
            if let Some(long) = off {
                args.push(switch(long, off_help, on));
            }
            args
        }
        fn from_matches(key: &Key, m: &ArgMatches) -> Result<Option<Self>, clap::Error> {
            let Flag::Switch { on, off, .. } = key.flag else {
                return Ok(None);
            };
            let given = |long: Option<&'static str>| -> Result<bool, clap::Error> {
                match long {
                    Some(long) => Ok(m
                        .try_get_one::<bool>(id(long))
                        .map_err(internal)?
                        .copied()
                        .unwrap_or(false)),
                    None => Ok(false),
                }
            };
            Ok(if given(off)? {
                Some(false)
            } else if given(on)? {
                Some(true)
            } else {
                None
            })
        }
    }
}
