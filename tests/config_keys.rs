//! Every key of the key table (`src/config/keys.rs`) is documented where
//! users read about keys: `prebake init`'s template, with its default, and
//! the README's configuration table, with its flags and default. A key
//! added to the table fails here until both name it; a key documented but
//! not in the table fails too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use prebake::config::{KEY_TABLE, Key};

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// `key = value` lines of the template, commented out or not, by key.
fn template_lines(text: &str) -> BTreeMap<String, String> {
    let mut lines = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_start_matches('#').trim();
        let Some((key, _)) = line.split_once(" = ") else {
            continue;
        };
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            let previous = lines.insert(key.to_string(), line.to_string());
            assert!(previous.is_none(), "the template sets `{key}` twice");
        }
    }
    lines
}

#[test]
fn the_init_template_names_every_key_with_its_default() {
    let lines = template_lines(&repo_file("templates/prebake.toml"));
    for key in KEY_TABLE {
        let line = lines
            .get(key.name)
            .unwrap_or_else(|| panic!("templates/prebake.toml lacks `{}`", key.name));
        if let Some(default) = key.default_toml() {
            assert_eq!(
                *line,
                format!("{} = {default}", key.name),
                "templates/prebake.toml shows another default for `{}`",
                key.name
            );
        }
    }
    for name in lines.keys() {
        assert!(
            KEY_TABLE.iter().any(|k| k.name == name),
            "templates/prebake.toml sets `{name}`, which is no key"
        );
    }
}

/// The rows of the README's table under `## Configuration`, by key:
/// (flag cell, default cell).
fn readme_rows(readme: &str) -> BTreeMap<String, (String, String)> {
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("the README has a ## Configuration section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, key, flag, default, ..] = cells[..] else {
            panic!("README row with too few cells: {line}");
        };
        let key = key.trim_matches('`').to_string();
        let previous = rows.insert(key.clone(), (flag.to_string(), default.to_string()));
        assert!(previous.is_none(), "the README's table has `{key}` twice");
    }
    rows
}

/// A default as the README's table writes it: strings bare, the rest as
/// TOML (`["**"]`, `16`).
fn readme_default(key: &Key) -> Option<String> {
    key.default_toml().map(|v| match v.as_str() {
        Some(s) => format!("`{s}`"),
        None => format!("`{v}`"),
    })
}

#[test]
fn the_readme_table_names_every_key_with_its_flags_and_default() {
    let rows = readme_rows(&repo_file("README.md"));
    for key in KEY_TABLE {
        let (flags, default) = rows
            .get(key.name)
            .unwrap_or_else(|| panic!("the README's configuration table lacks `{}`", key.name));
        for flag in key.flag.names() {
            assert!(
                flags.contains(&format!("`{flag}")),
                "the README's row for `{}` does not name {flag}: {flags}",
                key.name
            );
        }
        if let Some(expected) = readme_default(key) {
            assert_eq!(
                *default, expected,
                "the README's default for `{}`",
                key.name
            );
        }
    }
    for name in rows.keys() {
        assert!(
            KEY_TABLE.iter().any(|k| k.name == name),
            "the README's table has `{name}`, which is no key"
        );
    }
}

/// The synopsis under `## Usage` shows every flag a key has.
#[test]
fn the_readme_usage_shows_every_flag() {
    let readme = repo_file("README.md");
    let usage = readme
        .split("\n## Usage\n")
        .nth(1)
        .and_then(|s| s.split("\n```\n").next())
        .expect("the README has a ## Usage section with a code block");
    for key in KEY_TABLE {
        for flag in key.flag.names() {
            assert!(
                usage
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .any(|word| word == flag),
                "the README's usage lacks {flag}"
            );
        }
    }
}
