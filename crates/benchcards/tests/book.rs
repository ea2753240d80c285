//! The book (docs/) and the README stay true: the book builds with mdBook, every link in the
//! built pages leads somewhere that exists (the page, and the `#anchor` in it), and every
//! `benchcards …` command shown in a code block of docs/src/*.md or README.md still parses — its
//! subcommands exist and every flag it shows is in that subcommand's `--help`.
//!
//! mdBook is found in `BENCHCARDS_MDBOOK`, else `target/tools/bin/mdbook` (where scripts/test.sh
//! installs it), else on the PATH. Without it the tests that need it say so and check nothing,
//! except under CI=true, where they fail.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The repository's root folder.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn runs(program: &Path) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// mdBook, or `None` (with the reason printed) when it is absent and this is not CI.
fn mdbook() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BENCHCARDS_MDBOOK") {
        let path = PathBuf::from(path);
        assert!(runs(&path), "BENCHCARDS_MDBOOK={} does not run (`--version` failed)", path.display());
        return Some(path);
    }
    let tools = root().join("target/tools/bin/mdbook");
    if runs(&tools) {
        return Some(tools);
    }
    if runs(Path::new("mdbook")) {
        return Some(PathBuf::from("mdbook"));
    }
    let why = "mdbook is not in BENCHCARDS_MDBOOK, target/tools/bin/ or the PATH (scripts/test.sh installs it: \
               cargo install --locked mdbook --no-default-features --features search --root target/tools)";
    assert!(!under_ci(), "CI needs mdbook for the book's tests: {why}");
    eprintln!("skipped: the book is not built or checked on this machine: {why}");
    None
}

/// The book built into a temporary folder.
fn build(mdbook: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(mdbook).arg("build").arg(root().join("docs")).arg("--dest-dir").arg(out.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "mdbook build docs failed:\n{stderr}");
    // mdBook reports some problems (an unknown setting, a missing file) as errors and still writes
    // the book; warnings are treated the same way, so the build is clean.
    let problems: Vec<&str> = stderr.lines().filter(|l| l.contains("ERROR") || l.contains("WARN")).collect();
    assert!(problems.is_empty(), "mdbook build docs reported:\n{}", problems.join("\n"));
    out
}

/// Every file under `dir` whose name ends in `ext`.
fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.to_string_lossy().ends_with(ext) {
            out.push(path);
        }
    }
}

/// `path` with `.` and `..` resolved without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `%20` and the like decoded, and `&amp;` (as hrefs are written in HTML).
fn decode(s: &str) -> String {
    let s = s.replace("&amp;", "&");
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len()).then(|| Some(hex(bytes[i + 1])? * 16 + hex(bytes[i + 2])?)).flatten();
        match escaped {
            Some(b) => {
                out.push(b as u8);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `html` has an element with this id (or an old-style `name` anchor).
fn has_anchor(html: &str, anchor: &str) -> bool {
    html.contains(&format!("id=\"{anchor}\"")) || html.contains(&format!("name=\"{anchor}\""))
}

/// A link's target is outside the book when it leaves the output folder: a link from a page to
/// the repository's own files (`../../examples/…`), which resolves from docs/book/ as it does
/// from docs/src/ and on GitHub. Such a target must exist in the repository; mdBook renames
/// links to `.md` files as `.html`, so a missing `.html` whose `.md` exists is that file.
fn check_link(out: &Path, page: &Path, href: &str, pages: &mut HashMap<PathBuf, String>, broken: &mut Vec<String>) -> bool {
    let href = decode(href);
    let (path, anchor) = match href.split_once('#') {
        Some((p, a)) => (p.to_string(), Some(a.to_string())),
        None => (href.clone(), None),
    };
    let path = path.split('?').next().unwrap_or_default().to_string();
    let from = page.strip_prefix(out).unwrap();
    let say = |what: String| format!("{}: `{href}`: {what}", from.display());
    // The page as if the book were built in its default place, docs/book/.
    let book = root().join("docs/book");
    let virtual_page = book.join(from);
    // A path from `/` is from the book's root (mdBook's `site-url`, `/` unless set: the 404 page).
    let target = match path.strip_prefix('/') {
        _ if path.is_empty() => virtual_page.clone(),
        Some(from_root) => normalize(&book.join(from_root)),
        None => normalize(&virtual_page.parent().unwrap().join(&path)),
    };
    if let Ok(inside) = target.strip_prefix(&book) {
        let mut file = out.join(inside);
        if file.is_dir() {
            file = file.join("index.html");
        }
        if !file.is_file() {
            broken.push(say(format!("no file {}", inside.display())));
            return true;
        }
        if let Some(anchor) = anchor.filter(|a| !a.is_empty()) {
            let html = pages.entry(file.clone()).or_insert_with(|| std::fs::read_to_string(&file).unwrap_or_default());
            if !has_anchor(html, &anchor) {
                broken.push(say(format!("no anchor `#{anchor}` in {}", inside.display())));
            }
        }
        return true;
    }
    let Ok(in_repo) = target.strip_prefix(root()) else {
        broken.push(say("leads outside the repository".into()));
        return true;
    };
    let exists = target.exists() || (path.ends_with(".html") && target.with_extension("md").is_file());
    if !exists {
        broken.push(say(format!("no file {} in the repository", in_repo.display())));
    }
    true
}

#[test]
fn the_book_builds_and_every_link_in_it_resolves() {
    let Some(mdbook) = mdbook() else { return };
    let out = build(&mdbook);
    let link = regex::Regex::new(r#"(?:href|src)="([^"]*)""#).unwrap();
    let scheme = regex::Regex::new(r"^[a-zA-Z][a-zA-Z0-9+.-]*:").unwrap();
    let mut html_files = Vec::new();
    files(out.path(), ".html", &mut html_files);
    let mut pages = HashMap::new();
    let (mut broken, mut checked) = (Vec::new(), 0);
    for page in &html_files {
        let html = std::fs::read_to_string(page).unwrap();
        for cap in link.captures_iter(&html) {
            let href = &cap[1];
            // Addresses elsewhere (https:, mailto:) and the theme's empty "#" are not the book's.
            if href.is_empty() || href == "#" || href.starts_with("//") || scheme.is_match(href) {
                continue;
            }
            checked += usize::from(check_link(out.path(), page, href, &mut pages, &mut broken));
        }
    }
    assert!(broken.is_empty(), "{} broken link(s) in the built book:\n{}", broken.len(), broken.join("\n"));
    assert!(checked > 300, "only {checked} links were found in {} pages: is the book built?", html_files.len());

    // Every page is in SUMMARY.md, so none is left out of the built book.
    let src = root().join("docs/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let mut sources = Vec::new();
    files(&src, ".md", &mut sources);
    for page in sources {
        let name = page.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        assert!(name == "SUMMARY.md" || summary.contains(&format!("]({name})")), "docs/src/{name} is not in SUMMARY.md");
    }
}

#[test]
fn every_link_in_the_readme_resolves() {
    // The README is read on GitHub, not built: its links are checked as files, and an anchor into
    // a book page against the built page's ids (mdBook and GitHub make the same ones for these
    // headings).
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let scheme = regex::Regex::new(r"^[a-zA-Z][a-zA-Z0-9+.-]*:").unwrap();
    let built = mdbook().map(|m| build(&m));
    let mut broken = Vec::new();
    let mut into_book = 0;
    for cap in link.captures_iter(&readme) {
        let href = &cap[1];
        if scheme.is_match(href) {
            continue;
        }
        let (path, anchor) = href.split_once('#').map_or((href, None), |(p, a)| (p, Some(a)));
        if !root().join(path).exists() {
            broken.push(format!("`{href}`: no file {path}"));
            continue;
        }
        if let Some(page) = path.strip_prefix("docs/src/") {
            into_book += 1;
            if let (Some(anchor), Some(out)) = (anchor, &built) {
                let html = std::fs::read_to_string(out.path().join(page.replace(".md", ".html"))).unwrap();
                if !has_anchor(&html, anchor) {
                    broken.push(format!("`{href}`: no anchor `#{anchor}` in the built {page}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken link(s) in README.md:\n{}", broken.join("\n"));
    assert!(into_book >= 10, "the README links into the book ({into_book} links found)");
}

/// Every `benchcards …` command in a fenced code block of `text`: continuation lines joined,
/// a `$ ` prompt and a trailing `# comment` dropped.
fn shown_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let (mut in_block, mut pending) = (false, String::new());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_block = !in_block;
            pending.clear();
            continue;
        }
        if !in_block {
            continue;
        }
        let line = if pending.is_empty() { trimmed.strip_prefix("$ ").unwrap_or(trimmed) } else { trimmed };
        let line = match line.find(" #") {
            Some(i) => &line[..i],
            None => line,
        };
        let (line, continues) = match line.trim_end().strip_suffix('\\') {
            Some(l) => (l, true),
            None => (line, false),
        };
        if pending.is_empty() && !(line == "benchcards" || line.starts_with("benchcards ")) {
            continue;
        }
        pending.push_str(line.trim_end());
        pending.push(' ');
        if !continues {
            commands.push(pending.split_whitespace().collect::<Vec<_>>().join(" "));
            pending.clear();
        }
    }
    commands
}

/// `benchcards PATH… --help`, cached: (succeeded, its text).
fn help<'a>(cache: &'a mut HashMap<Vec<String>, (bool, String)>, path: &[String]) -> &'a (bool, String) {
    cache.entry(path.to_vec()).or_insert_with(|| {
        let o = Command::new(env!("CARGO_BIN_EXE_benchcards")).args(path).arg("--help").output().unwrap();
        (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    })
}

/// The subcommands a help text lists under `Commands:` (`help` aside).
fn subcommands(help: &str) -> Vec<String> {
    let Some((_, rest)) = help.split_once("\nCommands:\n") else { return Vec::new() };
    rest.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Whether `help` lists `flag` (`--format`, `-o`) as a flag, not as part of a longer one.
fn lists_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(i, _)| {
        let before = help[..i].chars().next_back();
        let after = help[i + flag.len()..].chars().next();
        matches!(before, Some(' ' | '\n' | '[' | '(')) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// The problems of one shown command, or none.
fn check_command(command: &str, cache: &mut HashMap<Vec<String>, (bool, String)>) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    let mut path: Vec<String> = Vec::new();
    let mut rest = &words[..];
    // Walk down the subcommands while the current one has them.
    loop {
        let (ok, text) = help(cache, &path).clone();
        if !ok {
            return vec![format!("`benchcards {} --help` fails:\n{text}", path.join(" "))];
        }
        let subs = subcommands(&text);
        if subs.is_empty() {
            break;
        }
        match rest.first() {
            Some(w) if subs.iter().any(|s| s == w) => {
                path.push((*w).to_string());
                rest = &rest[1..];
            }
            Some(w) if w.starts_with('-') => break,
            other => {
                return vec![format!("`benchcards {}` has no subcommand `{}` (it has {subs:?})", path.join(" "), other.unwrap_or(&""))];
            }
        }
    }
    let text = help(cache, &path).1.clone();
    let long = regex::Regex::new(r"--[a-z0-9][a-z0-9-]*").unwrap();
    let mut problems = Vec::new();
    for word in rest {
        let bare = word.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')' | '|'));
        let mut flags: Vec<&str> = long.find_iter(word).map(|m| m.as_str()).collect();
        if bare.len() == 2 && bare.starts_with('-') && bare.as_bytes()[1].is_ascii_alphabetic() {
            flags.push(bare);
        }
        for flag in flags {
            if !lists_flag(&text, flag) {
                problems.push(format!("`benchcards {}` has no flag `{flag}`", path.join(" ")));
            }
        }
    }
    problems
}

/// The book's pages and the README, by their path in the repository.
fn documents() -> Vec<(String, String)> {
    let mut pages = Vec::new();
    files(&root().join("docs/src"), ".md", &mut pages);
    pages.sort();
    pages.push(root().join("README.md"));
    pages.iter().map(|p| (p.strip_prefix(root()).unwrap().display().to_string(), std::fs::read_to_string(p).unwrap())).collect()
}

#[test]
fn every_command_shown_in_the_book_and_the_readme_parses() {
    let mut cache = HashMap::new();
    let (mut problems, mut checked) = (Vec::new(), 0);
    for (name, text) in documents() {
        for command in shown_commands(&text) {
            checked += 1;
            for p in check_command(&command, &mut cache) {
                problems.push(format!("{name}: {command}\n    {p}"));
            }
        }
    }
    assert!(problems.is_empty(), "{} shown command(s) no longer parse:\n{}", problems.len(), problems.join("\n"));
    assert!(checked > 80, "only {checked} commands were found in code blocks");
}

#[test]
fn the_commands_page_shows_every_command() {
    // Every subcommand the binary has, at every depth, appears in a code block of commands.md.
    let page = std::fs::read_to_string(root().join("docs/src/commands.md")).unwrap();
    let shown: BTreeSet<String> = shown_commands(&page).into_iter().collect();
    let mut cache = HashMap::new();
    let (mut missing, mut stack, mut seen) = (Vec::new(), vec![Vec::<String>::new()], 0);
    while let Some(path) = stack.pop() {
        let subs = subcommands(&help(&mut cache, &path).1.clone());
        if subs.is_empty() {
            seen += 1;
            let prefix = format!("benchcards {}", path.join(" "));
            if !shown.iter().any(|c| c == &prefix || c.starts_with(&format!("{prefix} "))) {
                missing.push(prefix);
            }
        }
        for s in subs {
            stack.push([path.clone(), vec![s]].concat());
        }
    }
    assert!(missing.is_empty(), "commands.md shows no code block for: {missing:?}");
    assert!(seen > 25, "only {seen} commands found in the binary's help");
}

/// The fenced code blocks of `text`, each as its lines.
fn blocks(text: &str) -> Vec<Vec<&str>> {
    let (mut out, mut current): (Vec<Vec<&str>>, Option<Vec<&str>>) = (Vec::new(), None);
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => out.push(block),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line);
        }
    }
    out
}

/// `benchcards ARGS` run from the repository's folder: its standard output.
fn output(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_benchcards")).current_dir(root()).args(args).output().unwrap();
    assert!(o.status.success(), "benchcards {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Each documented line (`lines`, trailing spaces aside) begins a line of `actual`: an excerpt
/// may leave out lines and trailing columns, never change what it shows.
fn shown_lines_are_in(page: &str, lines: &[&str], actual: &str) -> Vec<String> {
    let actual: Vec<&str> = actual.lines().map(str::trim_end).collect();
    lines
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty() && !actual.iter().any(|a| a.starts_with(l)))
        .map(|l| format!("{page}: no longer in the output: {l}"))
        .collect()
}

#[test]
fn documented_outputs_are_what_the_commands_print() {
    // The outputs the book shows, run again: the seed example's decomposition, the Bean card
    // against the public symptom chatbot, and the ranking over the bundled registry.
    let page = |name: &str| std::fs::read_to_string(root().join("docs/src").join(name)).unwrap();
    let block = |text: &str, first: &str| -> Vec<String> {
        let found = blocks(text).into_iter().find(|b| b.first().is_some_and(|l| l.starts_with(first)));
        found.unwrap_or_else(|| panic!("no code block starting with `{first}`")).iter().map(|l| l.to_string()).collect()
    };
    let mut wrong = Vec::new();

    let statistics = page("statistics.md");
    let seed = output(&[
        "decompose",
        "examples/results/bean-seed.csv",
        "--path",
        "vignette,patient_query,chat_model_messages,participant_answer",
        "--reference",
        "control_arm",
        "--condition-meta",
        "examples/results/bean-seed-conditions.csv",
    ]);
    for first in ["Condition            n    Score", "Step                                      On these strata"] {
        let lines = block(&statistics, first);
        wrong.extend(shown_lines_are_in("statistics.md", &lines.iter().map(String::as_str).collect::<Vec<_>>(), &seed));
    }

    let stage1 = page("stage-1.md");
    let compare =
        output(&["compare", "registry/bean-scenarios.yaml", "examples/deployments/patient-symptom-chatbot.yaml", "--format", "md"]);
    let rows: Vec<&str> = stage1.lines().filter(|l| l.starts_with("| `")).collect();
    assert!(rows.len() >= 6, "the comparison excerpt has its rows");
    wrong.extend(shown_lines_are_in("stage-1.md", &rows, &compare));
    let ranking = output(&["match", "examples/deployments/patient-symptom-chatbot.yaml", "--top", "3"]);
    let lines = block(&stage1, "Rank  Card");
    wrong.extend(shown_lines_are_in("stage-1.md", &lines.iter().map(String::as_str).collect::<Vec<_>>(), &ranking));

    assert!(wrong.is_empty(), "{} documented line(s) differ from what the commands print:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn shown_commands_are_read_as_a_shell_would() {
    let text =
        "```sh\n$ benchcards check a.yaml   # a comment\nbenchcards decompose r.csv \\\n  --path a,b\ncargo run\n```\nbenchcards outside\n";
    assert_eq!(shown_commands(text), ["benchcards check a.yaml", "benchcards decompose r.csv --path a,b"]);
    assert!(lists_flag("  -o, --output <OUTPUT>", "-o") && lists_flag("  -o, --output <OUTPUT>", "--output"));
    assert!(!lists_flag("      --output-dir <D>", "--output"), "a longer flag is not the flag");
    let mut cache = HashMap::new();
    assert!(check_command("benchcards runs export RUN -o x.csv --format csv", &mut cache).is_empty());
    assert_eq!(check_command("benchcards runs exprot RUN", &mut cache).len(), 1, "an unknown subcommand is found");
    assert_eq!(check_command("benchcards compare A B --formt md", &mut cache).len(), 1, "an unknown flag is found");
}
