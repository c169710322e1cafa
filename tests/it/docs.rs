//! The project's documentation stands alone: `docs/contract.md` is the statement of what the
//! code relies on, and every reference points into the repository. These tests keep that
//! true as files change:
//!
//! - no tracked file names a design document that is not in the repository;
//! - comments state invariants and reasons, not tracker numbers: no Rust comment, and no line
//!   of a doc or script, cites an issue or one of its numbered items;
//! - every `docs/contract.md "Section"` reference names a section that exists, and every link
//!   from the contract into README.md or ARCHITECTURE.md lands on a heading;
//! - the contract's exit-code table is the `ExitStatus` enum, row for row.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's tracked files (`git ls-files`), or, outside a git checkout, every file
/// but `.git/` and `target/`.
fn tracked_files() -> Vec<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output();
    if let Ok(out) = out {
        if out.status.success() && !out.stdout.is_empty() {
            return out
                .stdout
                .split(|&b| b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| root().join(String::from_utf8_lossy(p).as_ref()))
                .filter(|p| p.is_file())
                .collect();
        }
    }
    let mut files = Vec::new();
    let mut dirs = vec![root().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name();
            if entry.file_type().unwrap().is_dir() {
                if dir != root() || (name != ".git" && name != "target") {
                    dirs.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// The text files among [`tracked_files`], with their contents (binary files are skipped).
fn tracked_texts() -> Vec<(String, String)> {
    let files = tracked_files();
    assert!(files.len() > 50, "found only {} files", files.len());
    files
        .into_iter()
        .filter_map(|path| {
            let text = String::from_utf8(std::fs::read(&path).ok()?).ok()?;
            // `/`-separated on every system, as the paths the checks name.
            let rel = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            Some((rel, text))
        })
        .collect()
}

#[test]
fn no_tracked_file_names_a_design_document_outside_the_repository() {
    // Spelled in two pieces so that this file does not match itself.
    let needle = concat!("DESIGN", ".md");
    let hits: Vec<String> = tracked_texts()
        .iter()
        .flat_map(|(file, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, l)| l.contains(needle))
                .map(move |(i, l)| format!("{file}:{}: {}", i + 1, l.trim()))
        })
        .collect();
    assert!(
        hits.is_empty(),
        "these lines cite {needle}, which is not in the repository; point them at the section \
         of docs/contract.md (or README.md / ARCHITECTURE.md) that states it:\n{}",
        hits.join("\n")
    );
}

/// The comment part of a Rust source line, if any: the whole line when it starts with `//`,
/// else what follows a `//` that is outside a string literal (an even number of unescaped
/// quotes before it) and not part of a URL.
fn rust_comment(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return Some(trimmed);
    }
    let bytes = line.as_bytes();
    let mut quotes = 0;
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => quotes += 1,
            // `://` is a URL's scheme, not a comment.
            b'/' if quotes % 2 == 0
                && bytes.get(i + 1) == Some(&b'/')
                && (i == 0 || bytes[i - 1] != b':') =>
            {
                return Some(&line[i..]);
            }
            _ => {}
        }
    }
    None
}

/// Where `text` cites a tracker: a word of `WORDS` (any case, optionally plural) followed by
/// a space, an optional `#` and a digit (the issue number or item number a tracker gives), or
/// a section sign followed by a digit. Returns the cited text.
fn tracker_citation(text: &str) -> Option<String> {
    const WORDS: [&str; 4] = ["issue", "item", "round", "session"];
    let lower = text.to_lowercase();
    let b = lower.as_bytes();
    for word in WORDS {
        let mut from = 0;
        while let Some(at) = lower[from..].find(word) {
            let start = from + at;
            from = start + word.len();
            if start > 0 && b[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            let mut i = from;
            if b.get(i) == Some(&b's') {
                i += 1;
            }
            if b.get(i) != Some(&b' ') {
                continue;
            }
            i += 1;
            if b.get(i) == Some(&b'#') {
                i += 1;
            }
            if b.get(i).is_some_and(u8::is_ascii_digit) {
                let end = (i + 1..=b.len())
                    .find(|&e| !b.get(e).is_some_and(u8::is_ascii_digit))
                    .unwrap_or(b.len());
                return Some(lower[start..end].to_string());
            }
        }
    }
    let section = lower.find('§')?;
    lower[section + '§'.len_utf8()..]
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| lower[section..].chars().take(3).collect())
}

#[test]
fn tracker_citations_are_recognized() {
    for cited in [
        "// Issue 12 item 8: durations",
        "/// Item 5: `restart` signalled",
        "//! (issue 10 items 2 and 4)",
        "// see issue #7",
        "//! (issue 6 §5)",
        "// measured in round 2",
        "    let x = 1; // session 2 figures",
    ] {
        let comment = rust_comment(cited).unwrap_or_else(|| panic!("no comment in {cited:?}"));
        assert!(tracker_citation(comment).is_some(), "{cited:?}");
    }
    for clean in [
        "// every item of the list is checked",
        "// a round of fdatasync calls",
        "// a new session and process group",
        "// the issue is that a FIFO blocks the open",
        "// an IPv6 issue: 0 bytes",
        "//! part 0's state is the prefix",
    ] {
        let comment = rust_comment(clean).unwrap();
        assert_eq!(tracker_citation(comment), None, "{clean:?}");
    }
    for code in [
        r#"let url = "http://127.0.0.1:8080/issue 3";"#,
        r#"assert!(s.contains("item 2"));"#,
    ] {
        assert_eq!(
            rust_comment(code).and_then(tracker_citation),
            None,
            "{code:?}"
        );
    }
}

#[test]
fn comments_and_docs_cite_no_tracker_numbers() {
    let mut hits = Vec::new();
    for (file, text) in tracked_texts() {
        // Generated files and lock files are not prose.
        if file == "Cargo.lock" || file.starts_with("completions/") || file.starts_with("man/") {
            continue;
        }
        let rust = file.ends_with(".rs");
        for (i, line) in text.lines().enumerate() {
            let prose = if rust { rust_comment(line) } else { Some(line) };
            if let Some(cited) = prose.and_then(tracker_citation) {
                hits.push(format!("{file}:{}: {cited:?} in {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "comments and docs state the invariant or the reason, not the tracker entry it came \
         from; rewrite these:\n{}",
        hits.join("\n")
    );
}

/// The headings of a Markdown text, as written (without the `#`s); a `#` line inside a
/// fenced code block is a shell comment, not a heading.
fn headings(markdown: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.push(line.trim_start_matches('#').trim().to_string());
        }
    }
    out
}

/// The anchor GitHub gives a heading: lower case, spaces to `-`, punctuation other than `-`
/// and `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn references_to_the_contract_name_its_sections() {
    let contract = std::fs::read_to_string(root().join("docs/contract.md")).unwrap();
    let sections = headings(&contract);
    let invariants = contract
        .split("\n## Invariants\n")
        .nth(1)
        .expect("docs/contract.md has an Invariants section")
        .lines()
        .filter(|l| {
            l.split_once(". **")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .count();
    assert_eq!(invariants, 6, "docs/contract.md's numbered invariants");

    let mut bad = Vec::new();
    let mut seen = 0;
    for (file, text) in tracked_texts() {
        // This file spells the path in its own code, never as a reference.
        if file == "tests/it/docs.rs" {
            continue;
        }
        // A reference may wrap: join the lines, comment markers dropped.
        let text = text
            .lines()
            .map(|l| {
                l.trim_start()
                    .trim_start_matches('/')
                    .trim_start_matches('!')
                    .trim()
            })
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("docs/contract.md") {
            rest = &rest[at + "docs/contract.md".len()..];
            let after = rest.trim_start_matches([',', ' ', ':']);
            if let Some(quoted) = after.strip_prefix('"') {
                seen += 1;
                let name = quoted.split('"').next().unwrap();
                if !sections.iter().any(|s| s == name) {
                    bad.push(format!(
                        "{file}: docs/contract.md \"{name}\": no such section"
                    ));
                }
            }
            let words: Vec<&str> = after.split_whitespace().take(2).collect();
            if words.first() == Some(&"invariant") {
                seen += 1;
                let n: u32 = words
                    .get(1)
                    .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_digit()))
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(0);
                if n == 0 || n as usize > invariants {
                    bad.push(format!(
                        "{file}: docs/contract.md invariant {n}: no such invariant"
                    ));
                }
            }
        }
    }
    assert!(
        seen > 20,
        "expected the code to cite the contract, found {seen} citations"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    // The contract's links into the other documents land on headings.
    for doc in ["README.md", "ARCHITECTURE.md"] {
        let prefix = format!("](../{doc}#");
        let target = std::fs::read_to_string(root().join(doc)).unwrap();
        let anchors: Vec<String> = headings(&target).iter().map(|h| anchor(h)).collect();
        for link in contract.split(prefix.as_str()).skip(1) {
            let name = link.split(')').next().unwrap();
            assert!(
                anchors.iter().any(|a| a == name),
                "docs/contract.md links to {doc}#{name}"
            );
        }
    }
    let own: Vec<String> = sections.iter().map(|h| anchor(h)).collect();
    for link in contract.split("](#").skip(1) {
        let name = link.split(')').next().unwrap();
        assert!(
            own.iter().any(|a| a == name),
            "docs/contract.md links to #{name}"
        );
    }
}

#[test]
fn contract_exit_code_table_is_the_help_table() {
    let contract = std::fs::read_to_string(root().join("docs/contract.md")).unwrap();
    let section = contract
        .split("\n## Exit codes\n")
        .nth(1)
        .expect("docs/contract.md has an \"Exit codes\" section");
    let rows: Vec<(u8, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| code |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 2, "row {l:?}");
            let code = cells[0].parse().unwrap_or_else(|_| panic!("row {l:?}"));
            (code, cells[1].replace('`', ""))
        })
        .collect();
    assert_eq!(
        rows,
        crate::support::help_exit_table(),
        "docs/contract.md's exit-code table differs from --help's"
    );
}
