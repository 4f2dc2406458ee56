//! Source maps: modes, names, and exactness after placeholder substitution.
//!
//! Maps are decoded with `swc_sourcemap` (a decoder that is not ours) and
//! known tokens of the output are looked up: each must map back to the line
//! and column where the same token stands in the source.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use common::Project;
use serde_json::Value;

/// A long directory name makes every rewritten import much longer than its
/// placeholder, so a mapping that was not shifted lands far off.
const LONG: &str = "a-rather-long-directory-name-for-shifting-columns";

fn project() -> Project {
    let p = Project::new();
    p.write(
        "src/app.ts",
        format!(
            "import {{ greet }} from \"./{LONG}/greet\";\n\
             import {{ shout }} from \"./{LONG}/shout\";\n\
             const logo = new URL(\"./img/logo.svg\", import.meta.url);\n\
             export function main(name: string): string {{\n\
             \x20 const message: string = greet(name) + shout(name);\n\
             \x20 console.warn(message, logo.href);\n\
             \x20 return message;\n\
             }}\n"
        ),
    );
    p.write(
        &format!("src/{LONG}/greet.ts"),
        "export const greet = (who: string) => `Hello, ${who}!`;\n",
    );
    p.write(
        &format!("src/{LONG}/shout.ts"),
        "export function shout(who: string): string {\n  return who.toUpperCase();\n}\n",
    );
    p.write(
        "src/img/logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
    );
    p.write(
        "src/site.css",
        format!(
            "@import url(\"./{LONG}/more.css\");\n\
             .hero {{\n  background: url(\"./img/logo.svg\");\n  & .title {{ content: \"é😀\"; color: red }}\n}}\n\
             .after {{ mask: url(./img/logo.svg); color: blue }}\n\
             .last {{ color: green }}\n"
        ),
    );
    p.write(
        &format!("src/{LONG}/more.css"),
        ".more {\n  background-image: url(\"../img/logo.svg\");\n}\n",
    );
    p
}

fn manifest(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

/// Line and UTF-16 column of the first `needle` in `text`.
#[track_caller]
fn position(text: &str, needle: &str) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{text}"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count();
    let col = text[line_start..at].encode_utf16().count();
    (line as u32, col as u32)
}

/// Checks that the output token `out_needle` maps into `source` (a
/// logical name) at the place where `src_needle` starts.
#[track_caller]
fn assert_maps(
    map: &swc_sourcemap::SourceMap,
    output: &str,
    out_needle: &str,
    sources: &Path,
    source: &str,
    src_needle: &str,
) {
    let (line, col) = position(output, out_needle);
    let token = map
        .lookup_token(line, col)
        .unwrap_or_else(|| panic!("no mapping at {line}:{col} (`{out_needle}`)"));
    assert_eq!(
        token.get_dst(),
        (line, col),
        "`{out_needle}` has no mapping of its own"
    );
    let original = fs::read_to_string(sources.join(source)).unwrap();
    let want = position(&original, src_needle);
    let got_source = token
        .get_source()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        got_source.ends_with(source),
        "`{out_needle}` maps to {got_source}, not {source}"
    );
    assert_eq!(
        token.get_src(),
        want,
        "`{out_needle}` maps to {:?} in {source}, but `{src_needle}` is at {want:?}",
        token.get_src()
    );
}

#[test]
fn linked_maps_are_exact_after_references_are_rewritten() {
    let p = project();
    p.build(&["--sourcemap", "linked"]).assert_code(0);
    let out = p.path().join("out");
    let m = manifest(&out);
    let app = &m["assets"]["app.ts"];
    let js_file = app["file"].as_str().unwrap();
    let map_file = app["map"].as_str().unwrap();
    let js = fs::read_to_string(out.join(js_file)).unwrap();

    // The map is a fingerprinted file beside the output, named in a comment.
    let map_name = Path::new(map_file).file_name().unwrap().to_str().unwrap();
    assert!(
        js.ends_with(&format!("\n//# sourceMappingURL={map_name}\n")),
        "{js}"
    );
    let map_bytes = fs::read(out.join(map_file)).unwrap();
    let json: Value = serde_json::from_slice(&map_bytes).unwrap();
    // `sources` are relative to the map: ../src/app.ts from out/.
    assert_eq!(json["sources"], serde_json::json!(["../src/app.ts"]));
    assert!(
        json["sourcesContent"][0]
            .as_str()
            .unwrap()
            .contains("console.warn")
    );
    assert!(json.get("file").is_none());

    // The rewritten imports are far longer than their placeholders; tokens
    // after them on the same line must still map home.
    assert!(js.contains(LONG), "{js}");
    let map = swc_sourcemap::SourceMap::from_slice(&map_bytes).unwrap();
    let src = p.path().join("src");
    assert_maps(&map, &js, "new URL(", &src, "app.ts", "new URL(");
    assert_maps(&map, &js, "console.warn", &src, "app.ts", "console.warn");
    assert_maps(
        &map,
        &js,
        "import.meta.url",
        &src,
        "app.ts",
        "import.meta.url",
    );
    // Mangled names map back to their original names (`names`).
    let (line, col) = position(&js, "function main(");
    let param = map.lookup_token(line, col + 14).unwrap();
    assert_eq!(param.get_dst(), (line, col + 14), "{js}");
    assert_eq!(
        param.get_name().map(ToString::to_string).as_deref(),
        Some("name")
    );
    let (l1, _) = position(&js, "console.warn");
    let (l2, _) = position(&js, &format!("{LONG}/greet-"));
    assert_eq!(l1, l2, "test needs the call on the import's line:\n{js}");

    // CSS: the map covers the inlined @import too, and rules after each
    // rewritten url() on the one minified line.
    let css_entry = &m["assets"]["site.css"];
    let css = fs::read_to_string(out.join(css_entry["file"].as_str().unwrap())).unwrap();
    let css_map_file = css_entry["map"].as_str().unwrap();
    assert!(css.ends_with(&format!(
        "\n/*# sourceMappingURL={} */\n",
        Path::new(css_map_file).file_name().unwrap().to_str().unwrap()
    )));
    let css_map_bytes = fs::read(out.join(css_map_file)).unwrap();
    let css_json: Value = serde_json::from_slice(&css_map_bytes).unwrap();
    let mut sources: Vec<&str> = css_json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    sources.sort_unstable();
    assert_eq!(
        sources,
        vec![
            format!("../src/{LONG}/more.css").as_str(),
            "../src/site.css"
        ]
    );
    let css_map = swc_sourcemap::SourceMap::from_slice(&css_map_bytes).unwrap();
    assert_maps(
        &css_map,
        &css,
        ".more{",
        &src,
        &format!("{LONG}/more.css"),
        ".more {",
    );
    assert_maps(&css_map, &css, ".after{", &src, "site.css", ".after {");
    // After a non-ASCII string: columns count UTF-16 units.
    assert_maps(&css_map, &css, ".last{", &src, "site.css", ".last {");

    // `prebake check` verifies the maps as well.
    p.run(&["check", "--out", "out"]).assert_code(0);
    fs::remove_file(out.join(map_file)).unwrap();
    p.run(&["check", "--out", "out"])
        .assert_code(1)
        .assert_stderr_has("source map");
}

#[test]
fn hidden_inline_and_none() {
    let p = project();
    p.build(&["--sourcemap", "linked", "--out", "linked"])
        .assert_code(0);
    p.build(&["--sourcemap", "hidden", "--out", "hidden"])
        .assert_code(0);
    p.build(&["--sourcemap", "inline", "--out", "inline"])
        .assert_code(0);
    p.build(&["--out", "none"]).assert_code(0);
    let read = |dir: &str, logical: &str| {
        let out = p.path().join(dir);
        let m = manifest(&out);
        let e = &m["assets"][logical];
        let text = fs::read_to_string(out.join(e["file"].as_str().unwrap())).unwrap();
        let map = e["map"]
            .as_str()
            .map(|f| fs::read_to_string(out.join(f)).unwrap());
        (text, map)
    };
    for logical in ["app.ts", "site.css"] {
        let (linked, linked_map) = read("linked", logical);
        let (hidden, hidden_map) = read("hidden", logical);
        let (inline, inline_map) = read("inline", logical);
        let (none, none_map) = read("none", logical);
        // Hidden: the same map file, and no comment.
        assert_eq!(hidden_map, linked_map);
        assert!(!hidden.contains("sourceMappingURL"), "{hidden}");
        assert_eq!(hidden, none);
        // Inline: the same map as a data: URL, and no map file.
        assert!(inline_map.is_none());
        let url = inline
            .lines()
            .last()
            .unwrap()
            .split("base64,")
            .nth(1)
            .unwrap()
            .trim_end_matches(" */");
        let decoded = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(url)
                .unwrap()
        };
        assert_eq!(Some(String::from_utf8(decoded).unwrap()), linked_map);
        assert!(none_map.is_none());
        assert!(!none.contains("sourceMappingURL"));
        assert!(
            linked.lines().last().unwrap().contains("sourceMappingURL="),
            "{linked}"
        );
    }
    // No `.map` files at all without file maps.
    for dir in ["inline", "none"] {
        assert!(
            common::read_tree(&p.path().join(dir))
                .keys()
                .all(|k| Path::new(k).extension().is_none_or(|e| e != "map")),
            "{dir}"
        );
    }
}

#[test]
fn sources_content_can_be_left_out() {
    let p = project();
    p.build(&["--sourcemap", "linked", "--no-sources-content"])
        .assert_code(0);
    let out = p.path().join("out");
    let m = manifest(&out);
    let map: Value = serde_json::from_slice(
        &fs::read(out.join(m["assets"]["app.ts"]["map"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    assert!(map.get("sourcesContent").is_none(), "{map}");
}

#[test]
fn a_source_change_that_only_moves_code_renames_the_map_and_its_output() {
    // Same output bytes, different positions: the map changes, so the map's
    // name changes, so the linked output's bytes (its comment) and name do.
    let p = project();
    p.build(&["--sourcemap", "linked"]).assert_code(0);
    let before = manifest(&p.path().join("out"));
    p.write(
        &format!("src/{LONG}/greet.ts"),
        "\n\n// moved down\nexport const greet = (who: string) => `Hello, ${who}!`;\n",
    );
    p.build(&["--sourcemap", "linked"]).assert_code(0);
    let after = manifest(&p.path().join("out"));
    let key = format!("{LONG}/greet.ts");
    assert_ne!(before["assets"][&key]["map"], after["assets"][&key]["map"]);
    assert_ne!(
        before["assets"][&key]["file"],
        after["assets"][&key]["file"]
    );
    // Its importer points at the new name, so it is renamed too.
    assert_ne!(
        before["assets"]["app.ts"]["file"],
        after["assets"]["app.ts"]["file"]
    );
}

#[test]
fn sources_outside_the_project_use_a_virtual_root() {
    // An out dir outside the project (a Docker volume, say): a relative
    // path would spell out the machine's directories, so sources are named
    // under prebake:/// instead.
    let p = project();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("out");
    p.build(&["--sourcemap", "linked", "--out", out.to_str().unwrap()])
        .assert_code(0);
    let m = manifest(&out);
    let map = fs::read_to_string(out.join(m["assets"]["app.ts"]["map"].as_str().unwrap())).unwrap();
    let json: Value = serde_json::from_str(&map).unwrap();
    assert_eq!(json["sources"], serde_json::json!(["prebake:///app.ts"]));
    assert!(!map.contains(p.path().to_str().unwrap()));
}

/// lightningcss's bundler numbers `@import`ed files as it starts loading
/// them but listed them in the map as they finished, in parallel: rules
/// mapped to the wrong partial, differently from build to build.
#[test]
fn css_imports_map_to_their_own_files_in_every_build() {
    let p = Project::new();
    let mut entry = String::new();
    for i in 0..24 {
        let _ = writeln!(entry, "@import \"./parts/p{i}.css\";");
        // Different sizes, so parses finish in a different order.
        let padding = ".pad { color: red; & .x { margin: 1px; } }\n".repeat((i * 397) % 1500);
        p.write(
            &format!("src/parts/p{i}.css"),
            format!("{padding}.rule{i} {{ color: blue; }}\n"),
        );
    }
    entry.push_str(".entry { color: green; }\n");
    // Other stylesheets importing the same partials keep every worker busy.
    for k in 0..6 {
        p.write(
            &format!("src/other{k}.css"),
            entry.replace(".entry", &format!(".other{k}")),
        );
    }
    p.write("src/app.css", entry);
    let mut first: Option<std::collections::BTreeMap<String, Vec<u8>>> = None;
    for round in 0..4 {
        let out = format!("out{round}");
        p.build(&["--sourcemap", "linked", "--no-minify", "--out", &out])
            .assert_code(0);
        let out = p.path().join(out);
        let m = manifest(&out);
        let css =
            fs::read_to_string(out.join(m["assets"]["app.css"]["file"].as_str().unwrap())).unwrap();
        let map = swc_sourcemap::SourceMap::from_slice(
            &fs::read(out.join(m["assets"]["app.css"]["map"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        for i in 0..24 {
            assert_maps(
                &map,
                &css,
                &format!(".rule{i} "),
                &p.path().join("src"),
                &format!("parts/p{i}.css"),
                &format!(".rule{i} "),
            );
        }
        let tree = common::read_tree(&out);
        match &first {
            None => first = Some(tree),
            Some(t) => assert!(t == &tree, "build {round} differs from the first"),
        }
    }
}
