//! Every relative link and `#anchor` in the repository's Markdown files leads somewhere:
//! a moved or renamed file breaks this test, not the reader.
//!
//! Links are `[text](target)`, `![alt](target)` and `[label]: target` outside code; web
//! addresses (`http:`, `https:`, `mailto:`) are not followed (the tests run offline). A
//! target must exist relative to the file that names it; an anchor must be a heading of
//! the target Markdown file as GitHub names it (lowercase, punctuation dropped, spaces as
//! hyphens, `-1`, `-2`, … for repeats) or an explicit `id`/`name` in its HTML.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The Markdown files of the repository, skipping build output and version control.
fn markdown_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "runs") {
                markdown_files(&path, found);
            }
        } else if name.ends_with(".md") {
            found.push(path);
        }
    }
}

/// The lines of a Markdown file outside fenced code blocks, with their numbers.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m => fence = None,
            (None, None) => lines.push((i + 1, line.to_string())),
            _ => {}
        }
    }
    lines
}

/// `line` with every `` `code` `` span removed (links inside code are not links).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        match after.find(&"`".repeat(ticks)) {
            Some(end) => rest = &after[end + ticks..],
            None => return out + &rest[start..],
        }
    }
    out + rest
}

/// The link targets of one line: `](target)` and `[label]: target`.
fn targets(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let mut depth = 0;
        let end = after.char_indices().find(|&(_, c)| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' if depth == 0 => true,
            ')' => {
                depth -= 1;
                false
            }
            _ => false,
        });
        let Some((end, _)) = end else { break };
        // `(path "title")`: the target is the first word.
        let target = after[..end].split_whitespace().next().unwrap_or("");
        found.push(target.trim_matches(|c| c == '<' || c == '>').to_string());
        rest = &after[end..];
    }
    let trimmed = line.trim_start();
    if let (Some(stripped), false) = (trimmed.strip_prefix('['), trimmed.starts_with("[^")) {
        if let Some(close) = stripped.find("]:") {
            if let Some(target) = stripped[close + 2..].split_whitespace().next() {
                found.push(target.to_string());
            }
        }
    }
    found
}

/// GitHub's anchor for a heading's text.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors a Markdown file defines: its headings' slugs and HTML ids and names.
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut anchors = HashSet::new();
    for (_, line) in prose_lines(text) {
        let trimmed = line.trim_start();
        if let Some(heading) = trimmed.strip_prefix('#') {
            let heading = heading.trim_start_matches('#');
            if heading.starts_with(' ') {
                // Links in a heading keep only their text.
                let text: String = heading.replace(['[', ']'], "");
                let text = match text.find("](") {
                    Some(_) => text.split('(').next().unwrap_or("").to_string(),
                    None => text,
                };
                let base = slug(&text);
                let mut name = base.clone();
                let mut n = 0;
                while !seen.insert(name.clone()) {
                    n += 1;
                    name = format!("{base}-{n}");
                }
                anchors.insert(name);
            }
        }
        for attribute in ["id=\"", "name=\""] {
            let mut rest = line.as_str();
            while let Some(i) = rest.find(attribute) {
                let after = &rest[i + attribute.len()..];
                if let Some(end) = after.find('"') {
                    anchors.insert(after[..end].to_string());
                }
                rest = after;
            }
        }
    }
    anchors
}

/// What is wrong with `target` as written in `file`, if anything.
fn problem(root: &Path, file: &Path, target: &str) -> Option<String> {
    let web = ["http://", "https://", "mailto:", "ftp://"];
    if target.is_empty() || web.iter().any(|w| target.starts_with(w)) {
        return None;
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let resolved = if path.is_empty() {
        file.to_path_buf()
    } else if let Some(absolute) = path.strip_prefix('/') {
        root.join(absolute)
    } else {
        file.parent().expect("a file's folder").join(path)
    };
    if !resolved.exists() {
        return Some(format!("{target}: no such file"));
    }
    let anchor = anchor.filter(|a| !a.is_empty())?;
    if resolved.extension().is_none_or(|e| e != "md") {
        return None; // anchors into source files are line numbers on a forge: not checked
    }
    let text = fs::read_to_string(&resolved).ok()?;
    (!anchors(&text).contains(anchor)).then(|| format!("{target}: no heading #{anchor}"))
}

#[test]
fn every_relative_link_and_anchor_in_the_markdown_files_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    markdown_files(root, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("README.md")),
        "the README is found"
    );
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = fs::read_to_string(file).expect("a Markdown file reads");
        for (line, prose) in prose_lines(&text) {
            for target in targets(&without_code_spans(&prose)) {
                checked += 1;
                if let Some(problem) = problem(root, file, &target) {
                    let name = file.strip_prefix(root).unwrap_or(file).display();
                    broken.push(format!("{name}:{line}: {problem}"));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: the parser is broken"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_reads_links_and_anchors_as_github_does() {
    assert_eq!(
        targets("see [a](x.md#b) and ![c](d/e.png \"t\") but `[f](g)`"),
        ["x.md#b", "d/e.png", "g"]
    );
    let prose = without_code_spans("see `[f](g)` and [h](i)");
    assert_eq!(targets(&prose), ["i"]);
    assert_eq!(targets("[label]: ../x.md"), ["../x.md"]);
    assert_eq!(
        slug("The tour: from `Tensor` to the ELBO"),
        "the-tour-from-tensor-to-the-elbo"
    );
    let text = "# Results\n## Results\n```\n# not a heading\n```\n<a id=\"here\"></a>\n";
    let found = anchors(text);
    for anchor in ["results", "results-1", "here"] {
        assert!(found.contains(anchor), "{anchor} in {found:?}");
    }
    assert!(!found.contains("not-a-heading"));
}
