//! T22: names with spaces, quotes, parentheses, `#`, `?`, `%`, `</script>`
//! and U+2028 survive every kind of reference. Outputs re-parse (the whole
//! release builds again as a source tree, so every rewritten reference
//! resolves), and the manifest decodes to the same names in `serde_json`,
//! Python and node.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::format_push_string)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;

use common::{ODD_NAMES, escaping_project};

/// `logical file` pairs of a manifest, as hex of their UTF-8 bytes.
fn pairs_from_rust(manifest: &[u8]) -> BTreeSet<String> {
    let m = prebake::Manifest::from_json(std::str::from_utf8(manifest).unwrap()).unwrap();
    let hex = |s: &str| prebake::fingerprint::hex(s.as_bytes());
    m.assets
        .iter()
        .map(|(k, e)| format!("{} {}", hex(k), hex(&e.file)))
        .collect()
}

fn lines(out: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(out)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn t22_odd_names_survive_every_reference_and_every_reader() {
    let p = escaping_project();
    p.build(&[]).assert_code(0);
    p.run(&["check", "--out", "out"]).assert_code(0);
    let out = p.path().join("out");
    let manifest = fs::read(out.join("manifest.json")).unwrap();

    // Every odd name is in the manifest, under its own logical name.
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    for name in ODD_NAMES {
        let key = format!("img/{name}.png");
        assert!(m["assets"].get(&key).is_some(), "{key} missing");
    }

    // serde_json, Python and node decode the same names.
    let rust = pairs_from_rust(&manifest);
    let python = Command::new("python3")
        .arg("-c")
        .arg(
            "import json,sys\n\
             m=json.load(open(sys.argv[1],encoding='utf-8'))\n\
             for k,v in m['assets'].items(): print(k.encode().hex(), v['file'].encode().hex())",
        )
        .arg(out.join("manifest.json"))
        .output()
        .expect("python3");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    assert_eq!(lines(&python.stdout), rust, "Python decodes other names");
    let node = Command::new("node")
        .arg("-e")
        .arg(
            "const m=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));\n\
             const h=(s)=>Buffer.from(s,'utf8').toString('hex');\n\
             for (const [k,v] of Object.entries(m.assets)) console.log(h(k)+' '+h(v.file));",
        )
        .arg(out.join("manifest.json"))
        .output()
        .expect("node (run tests/setup.sh)");
    assert!(
        node.status.success(),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );
    assert_eq!(lines(&node.stdout), rust, "node decodes other names");

    // The outputs re-parse and every rewritten URL resolves: the release,
    // as a source tree, builds again (with no config of its own).
    let again = p.run(&["build", "--root", "out", "--out", "again", "--no-config"]);
    again.assert_code(0);

    // The page's URLs are plain ASCII in double-quoted attributes, and no
    // `</script` or raw U+2028 reached any text output.
    for (rel, bytes) in common::read_tree(&out) {
        let text = String::from_utf8_lossy(&bytes);
        if std::path::Path::new(&rel)
            .extension()
            .is_some_and(|e| e == "js")
        {
            assert!(!text.contains("</script"), "{rel}: {text}");
            assert!(!text.contains('\u{2028}'), "{rel}: {text}");
            assert!(text.is_ascii(), "{rel}: {text}");
        }
        if rel == "index.html" {
            for line in text
                .lines()
                .filter(|l| l.contains("src=") || l.contains("href="))
            {
                assert!(line.is_ascii(), "{line}");
            }
        }
    }
}
