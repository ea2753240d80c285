//! The one place that reads card, profile and plan files and turns every problem into a
//! diagnostic: size, encoding, front matter, YAML syntax, types, then taxonomy rules.

use crate::de::from_node;
use crate::diag::{Diagnostic, Diagnostics, Pos, nearest};
use crate::model::{Card, Plan, Profile};
use crate::taxonomy::taxonomy;
use crate::validate::{validate_card, validate_plan, validate_profile};
use crate::yaml::{Limits, Node, Offset, parse};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The three kinds of file, by their top-level key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Card,
    Profile,
    Plan,
}

impl DocKind {
    pub const ALL: [DocKind; 3] = [DocKind::Card, DocKind::Profile, DocKind::Plan];
    pub fn key(self) -> &'static str {
        match self {
            DocKind::Card => "benchcard",
            DocKind::Profile => "deployment",
            DocKind::Plan => "plan",
        }
    }
    pub fn noun(self) -> &'static str {
        match self {
            DocKind::Card => "card",
            DocKind::Profile => "deployment profile",
            DocKind::Plan => "plan",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Card(Card),
    Profile(Profile),
    Plan(Plan),
}

impl Document {
    pub fn kind(&self) -> DocKind {
        match self {
            Document::Card(_) => DocKind::Card,
            Document::Profile(_) => DocKind::Profile,
            Document::Plan(_) => DocKind::Plan,
        }
    }

    /// The card's, profile's or plan's `id`.
    pub fn id(&self) -> &str {
        match self {
            Document::Card(c) => &c.id,
            Document::Profile(p) => &p.id,
            Document::Plan(p) => &p.id,
        }
    }
}

/// A source file's text and, for Markdown, where its front matter lies.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
    /// Byte range of the YAML inside the text (the whole text for YAML files).
    pub yaml: std::ops::Range<usize>,
    pub markdown: bool,
}

impl Source {
    pub fn yaml_text(&self) -> &str {
        &self.text[self.yaml.clone()]
    }
    /// The Markdown body after the front matter (empty for YAML files).
    pub fn body(&self) -> &str {
        if !self.markdown {
            return "";
        }
        let rest = &self.text[self.yaml.end..];
        // Skip the closing `---` line.
        rest.split_once('\n').map_or("", |(_, body)| body)
    }
    /// Converts a character index into a byte offset (for underlining in reports).
    pub fn byte_offset(&self, char_index: usize) -> usize {
        self.text.char_indices().nth(char_index).map_or(self.text.len(), |(b, _)| b)
    }
}

/// The outcome of loading one file: what could be read, and every diagnostic.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub source: Option<Source>,
    pub root: Option<Node>,
    pub document: Option<Document>,
    pub diagnostics: Diagnostics,
}

impl Loaded {
    fn failed(source: Option<Source>, d: Diagnostic) -> Self {
        Loaded { source, root: None, document: None, diagnostics: Diagnostics(vec![d]) }
    }
    pub fn ok(&self) -> bool {
        self.document.is_some() && !self.diagnostics.has_errors()
    }
}

/// One file's diagnostics as `check --format json` shows them.
#[derive(Debug, serde::Serialize)]
pub struct FileReport<'a> {
    pub path: &'a str,
    pub errors: Vec<&'a Diagnostic>,
    pub warnings: Vec<&'a Diagnostic>,
}

impl<'a> FileReport<'a> {
    pub fn new(path: &'a str, loaded: &'a Loaded) -> Self {
        FileReport { path, errors: loaded.diagnostics.errors().collect(), warnings: loaded.diagnostics.warnings().collect() }
    }
}

/// Reads and validates a file of any of the three kinds.
pub fn load_file(path: &Path) -> Loaded {
    let name = path.display().to_string();
    // A bare id (or file name) that is no file here names the bundled card, profile or plan.
    let bundled = crate::bundled::stands_for(path).filter(|(file, _)| !file.ends_with(".jsonl"));
    if let Some((file, text)) = bundled {
        let mut loaded = load_text(&format!("{file} (bundled)"), text.to_string(), None, is_markdown(Path::new(file)));
        let note = format!("`{name}` is no file here: this is the bundled {file} (`benchcards registry show {name}` prints it)");
        // Said without a snippet: the file is the bundled one, not anything the user wrote.
        loaded.diagnostics.push(Diagnostic { conceal: true, ..Diagnostic::warning(FILE_START, note) });
        return loaded;
    }
    match read_text(path) {
        Ok(text) => load_text(&name, text, path.parent(), is_markdown(path)),
        Err(d) => Loaded::failed(None, d),
    }
}

/// A card with its warnings, or why the file is not one.
pub type CardLoad = Result<(Card, Loaded), LoadError>;

/// Every card in a folder (its `.yaml` and `.md` files, in name order), each loaded or with
/// the reason it is not a card, beside the file's name.
pub fn load_cards_in(dir: &Path) -> std::io::Result<Vec<(String, CardLoad)>> {
    Ok(documents_in(dir)?.iter().map(|p| (p.display().to_string(), load_card(p))).collect())
}

/// The one place that writes a file: a temporary file beside it, then a rename, so a failure
/// never leaves half a file where a whole one was (a test finds any other file write). The
/// error names the file.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().map_or("out".into(), |n| n.to_string_lossy())));
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The cards of a registry: those that load, every file's diagnostics beside its name, and how
/// many files were left out for errors.
pub struct Registry {
    pub cards: Vec<Card>,
    pub files: Vec<(String, Loaded)>,
    pub left_out: usize,
}

/// The cards of a registry folder (every `.yaml` and `.md` file), or the bundled registry; an
/// unreadable folder, one without a valid card, or a bundled file that does not load is the
/// error.
pub fn registry(dir: Option<&Path>) -> Result<Registry, String> {
    let Some(dir) = dir else {
        let cards = crate::bundled::documents().map_err(|e| format!("bundled file {} does not pass `check`", e.path))?.0;
        return Ok(Registry { cards, files: Vec::new(), left_out: 0 });
    };
    let found = load_cards_in(dir).map_err(|e| format!("cannot read registry folder {}: {e}", dir.display()))?;
    let mut r = Registry { cards: Vec::new(), files: Vec::new(), left_out: 0 };
    for (name, card) in found {
        match card {
            Ok((c, loaded)) => {
                r.cards.push(c);
                r.files.push((name, loaded));
            }
            Err(e) => {
                r.left_out += 1;
                r.files.push((name, *e.loaded));
            }
        }
    }
    if r.cards.is_empty() {
        return Err(format!("no valid cards in {}", dir.display()));
    }
    Ok(r)
}

/// The `.yaml` and `.md` files of a folder, in name order.
pub fn documents_in(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "md")))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Cards and profiles from texts in memory, each `(name, text)` read as a file of that name
/// would be. The first that has errors, or is neither a card nor a profile, is the error.
pub fn load_documents<'a>(files: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Result<(Vec<Card>, Vec<Profile>), LoadError> {
    let (mut cards, mut profiles) = (Vec::new(), Vec::new());
    for (name, text) in files {
        let loaded = load_text(name, text.to_string(), None, name.ends_with(".md"));
        match &loaded.document {
            Some(Document::Card(c)) if !loaded.diagnostics.has_errors() => cards.push(c.clone()),
            Some(Document::Profile(p)) if !loaded.diagnostics.has_errors() => profiles.push(p.clone()),
            _ => return Err(LoadError { loaded: Box::new(loaded), path: name.to_string() }),
        }
    }
    Ok((cards, profiles))
}

/// A plan's text as it reads beside other files: the lines of its `card`, `deployment` and
/// `dataset` keys name the given files, its schema comment (a path relative to where it was) is
/// dropped, and everything else is kept as written.
pub fn plan_beside(text: &str, card: &str, deployment: &str, dataset: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("# yaml-language-server"))
        .map(|l| match l.trim_start().split_once(':').map(|(k, _)| k) {
            Some("card") => format!("  card: {card}\n"),
            Some("deployment") => format!("  deployment: {deployment}\n"),
            Some("dataset") => format!("  dataset: {dataset}\n"),
            _ => format!("{l}\n"),
        })
        .collect()
}

/// `target` as a path relative to the folder `base` (both made absolute first), as a plan
/// names the files beside it.
pub fn relative_path(target: &Path, base: &Path) -> String {
    use std::path::Component;
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (t, b) = (abs(target), abs(base));
    let tc: Vec<Component> = t.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = tc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &tc[common..] {
        out.push(c);
    }
    out.display().to_string()
}

pub fn is_markdown(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "markdown"))
}

/// Data files (results, datasets, logs) larger than this are refused before reading.
pub const MAX_DATA_BYTES: u64 = 256 * 1024 * 1024;
/// Longest line of a JSONL data file (a dataset item with its attached conversations).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;
/// Most items in a dataset.
pub const MAX_ITEMS: usize = 1_000_000;
/// Most messages in one conversation.
pub const MAX_MESSAGES: usize = 1_000;

/// Where a problem with a whole file is shown.
const FILE_START: Pos = Pos { line: 1, column: 1, index: 0 };

/// A size limit on a kind of file, with what to tell the user who goes over it.
struct Limit {
    bytes: u64,
    expected: &'static str,
    suggestion: &'static str,
}

const DOCUMENT_LIMIT: Limit = Limit {
    bytes: MAX_FILE_BYTES,
    expected: "a card, profile or plan under 1 MiB",
    suggestion: "move long prose out of the file; link to it instead",
};

const DATA_LIMIT: Limit =
    Limit { bytes: MAX_DATA_BYTES, expected: "a data file under 256 MiB", suggestion: "split the file, or filter it to the rows you need" };

impl Limit {
    fn over(&self, size: &str) -> Diagnostic {
        Diagnostic::error(FILE_START, format!("file is {size}, over the limit of {} bytes; not parsed", self.bytes))
            .expected(self.expected)
            .suggest(Some(self.suggestion.into()))
    }

    /// Opens a file after checking it is a regular file within the limit, or says exactly why not.
    fn open(&self, path: &Path) -> Result<std::fs::File, Diagnostic> {
        let meta = std::fs::metadata(path).map_err(|e| Diagnostic::error(FILE_START, format!("cannot read file: {e}")))?;
        if meta.is_dir() {
            return Err(Diagnostic::error(FILE_START, "this is a folder, not a file").suggest(Some("give the path of a file".into())));
        }
        // Opening a FIFO waits for a writer, and a device may never end: only regular files are
        // opened at all.
        if !meta.is_file() {
            return Err(Diagnostic::error(FILE_START, "this is not a regular file (a pipe, device or socket); it is not opened")
                .suggest(Some("save the content to a file and give its path".into())));
        }
        if meta.len() > self.bytes {
            return Err(self.over(&format!("{} bytes", meta.len())));
        }
        std::fs::File::open(path).map_err(|e| Diagnostic::error(FILE_START, format!("cannot read file: {e}")))
    }

    /// Reads a file whole as UTF-8 text; a bare id that is no file here reads the bundled file.
    fn read(&self, path: &Path) -> Result<String, Diagnostic> {
        if let Some((_, text)) = crate::bundled::stands_for(path) {
            return Ok(text.to_string());
        }
        // A file still growing says nothing true of its size: read at most one byte past the limit.
        let mut bytes = Vec::new();
        self.open(path)?
            .take(self.bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Diagnostic::error(FILE_START, format!("cannot read file: {e}")))?;
        if bytes.len() as u64 > self.bytes {
            return Err(self.over("longer than its size said"));
        }
        decode_utf8(bytes)
    }
}

/// Reads a card, profile or plan as UTF-8 text within the 1 MiB limit, or says exactly why not.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    DOCUMENT_LIMIT.read(path)
}

/// Reads a data file (results, dataset, logs) within the 256 MiB limit.
pub fn read_data(path: &Path) -> Result<String, Diagnostic> {
    DATA_LIMIT.read(path)
}

/// Opens a data file to be read as a stream of bytes, after the checks of [`read_data`]: a
/// regular file within the 256 MiB limit. Reading past the limit (a file still growing) is an
/// error of the reader. The bytes are not decoded: the reader checks they are UTF-8 as it goes.
pub fn open_data(path: &Path) -> Result<impl BufRead, Diagnostic> {
    let file = DATA_LIMIT.open(path)?;
    Ok(BufReader::new(Bounded { inner: file, left: DATA_LIMIT.bytes }))
}

/// Bytes up to a limit: a byte past it is an error.
struct Bounded<R> {
    inner: R,
    /// Bytes that may still be read.
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left =
            self.left.checked_sub(n as u64).ok_or_else(|| std::io::Error::other("the file grew past its size limit while it was read"))?;
        Ok(n)
    }
}

fn lone_cr_to_lf(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(if c == '\r' && chars.peek() != Some(&'\n') { '\n' } else { c });
    }
    out
}

/// Decodes UTF-8, pointing at the first invalid byte.
pub fn decode_utf8(bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let text = String::from_utf8_lossy(valid);
        let line = text.matches('\n').count() + 1;
        let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Diagnostic::error(Pos { line, column, index: text.chars().count() }, "file is not valid UTF-8 text")
            .expected("UTF-8 text")
            .suggest(Some("re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)".into()))
    })
}

/// Splits Markdown front matter: the YAML between a first line `---` and the next `---` line.
fn front_matter(name: &str, text: &str) -> Result<std::ops::Range<usize>, Diagnostic> {
    let start = if text.starts_with("---\n") {
        4
    } else if text.starts_with("---\r\n") {
        5
    } else {
        return Err(Diagnostic::error(Pos { line: 1, column: 1, index: 0 }, format!("{name} has no front matter"))
            .expected("a first line `---`, then YAML with `benchcard:`, then a line `---`")
            .suggest(Some("add the card's YAML between two `---` lines at the top of the file".into())));
    };
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Ok(start..offset);
        }
        offset += line.len();
    }
    let line = text.matches('\n').count() + 1;
    Err(Diagnostic::error(Pos { line, column: 1, index: text.chars().count() }, "front matter is not closed")
        .expected("a line `---` after the YAML")
        .suggest(Some("add a line `---` where the card's YAML ends".into())))
}

/// Parses and validates text of any kind. `base` is the folder for resolving a plan's paths.
pub fn load_text(name: &str, text: String, base: Option<&Path>, markdown: bool) -> Loaded {
    // YAML, like most editors, breaks lines at a lone carriage return; so does the rest of the
    // pipeline once it is a line feed (same length, so no position moves).
    let text = if text.contains('\r') { lone_cr_to_lf(&text) } else { text };
    let yaml = if markdown {
        match front_matter(name, &text) {
            Ok(r) => r,
            Err(d) => return Loaded::failed(None, d),
        }
    } else {
        0..text.len()
    };
    let source = Source { name: name.to_string(), text, yaml, markdown };
    if source.yaml_text().trim().is_empty() {
        let what = if markdown { "front matter is empty" } else { "file is empty" };
        let line = if markdown { 2 } else { 1 };
        let d = Diagnostic::error(Pos { line, column: 1, index: 0 }, what)
            .expected("YAML with a top-level `benchcard:`, `deployment:` or `plan:` key")
            .suggest(Some("start from an example: `benchcards render registry/<card> --format md` or examples/deployments/".into()));
        return Loaded::failed(Some(source), d);
    }
    let offset = if markdown { Offset { lines: 1, chars: source.text[..source.yaml.start].chars().count() } } else { Offset::default() };
    let root = match parse(source.yaml_text(), offset, Limits::default()) {
        Ok(root) => root,
        Err(d) => return Loaded::failed(Some(source), d),
    };
    let (document, diagnostics) = decode(&root, base);
    let mut diagnostics = diagnostics;
    diagnostics.sort();
    Loaded { source: Some(source), root: Some(root), document, diagnostics }
}

fn decode(root: &Node, base: Option<&Path>) -> (Option<Document>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let t = taxonomy();
    let keys: Vec<&str> = root.entries().iter().map(|(k, _)| k.text.as_str()).collect();
    let found: Vec<DocKind> = DocKind::ALL.into_iter().filter(|k| keys.contains(&k.key())).collect();
    let kind = match found.as_slice() {
        [kind] => *kind,
        [] => {
            let mut d = Diagnostic::error(root.pos, "no `benchcard:`, `deployment:` or `plan:` key at the top level")
                .expected("one of the top-level keys `benchcard`, `deployment`, `plan`");
            d.suggestion = if keys.contains(&"benchmark_name") {
                Some("this looks like a card in the paper repository's format: convert it with `benchcards import`".into())
            } else {
                keys.iter().find_map(|k| nearest(k, DocKind::ALL.map(DocKind::key))).map(|s| format!("did you mean `{s}`?"))
            };
            if let Some(k) = root.entries().first() {
                d.line = k.0.pos.line;
                d.column = k.0.pos.column;
            }
            diags.push(d);
            return (None, diags);
        }
        _ => {
            let second = root.entries().iter().filter(|(k, _)| found.iter().any(|f| f.key() == k.text)).nth(1).map(|(k, _)| k);
            let pos = second.map_or(root.pos, |k| k.pos);
            diags.push(
                Diagnostic::error(pos, "a file holds one card, profile or plan; found several top-level kinds")
                    .suggest(Some("split them into separate files".into())),
            );
            return (None, diags);
        }
    };
    // Cards may share their front matter with other tools' keys (Hugging Face's `license`,
    // `language`, ...); profiles and plans may not.
    if kind != DocKind::Card {
        for (k, _) in root.entries() {
            if k.text != kind.key() {
                diags.push(Diagnostic::warning(k.pos, format!("top-level key `{}` is ignored", k.text)).len(k.text.chars().count()));
            }
        }
    }
    let key = root.key(kind.key()).expect("kind was found among the keys");
    let node = root.get(kind.key()).expect("kind was found among the keys");
    // Validation runs on what could be read, so the rest of the file is checked too; a document
    // with a reading error is not returned.
    let document = match kind {
        DocKind::Card => typed::<Card>(node, key, &mut diags).map(|(mut c, ok)| {
            diags.extend(validate_card(&mut c, node, t));
            for d in crate::hf::contradictions(&c, root) {
                diags.push(d);
            }
            ok.then_some(Document::Card(c))
        }),
        DocKind::Profile => typed::<Profile>(node, key, &mut diags).map(|(mut p, ok)| {
            diags.extend(validate_profile(&mut p, node, t));
            ok.then_some(Document::Profile(p))
        }),
        DocKind::Plan => typed::<Plan>(node, key, &mut diags).map(|(p, ok)| {
            diags.extend(validate_plan(&p, node, t, base));
            ok.then_some(Document::Plan(p))
        }),
    };
    (document.flatten(), diags)
}

/// Reads the typed document reporting every reading error, not only the first: after one, the
/// entry holding it is left out and the rest read again (at most 50 times). Returns the value
/// read from what remains and whether nothing had to be left out;
/// none when the rest cannot be read either. An error caused by leaving an entry out (its
/// container now misses a field) is not reported; the container is left out too.
fn typed<T: serde::de::DeserializeOwned>(node: &Node, key: &crate::yaml::Key, diags: &mut Diagnostics) -> Option<(T, bool)> {
    let mut tree = node.clone();
    let (mut touched, mut ok) = (Vec::new(), true);
    for _ in 0..50 {
        let e = match from_node::<T>(&tree, Some(key)) {
            Ok(value) => return Some((value, ok)),
            Err(e) => e,
        };
        let at = e.pos.unwrap_or(key.pos);
        if !touched.contains(&at) {
            diags.push(e.into_diagnostic(key.pos));
            ok = false;
        }
        touched.push(tree.remove_at(at, key.pos)?);
    }
    None
}

/// An error loading a file of an expected kind, with everything needed to show it.
#[derive(Debug)]
pub struct LoadError {
    pub loaded: Box<Loaded>,
    pub path: String,
}

/// Loads a file that must be a card; warnings are returned beside it.
pub fn load_card(path: &Path) -> Result<(Card, Loaded), LoadError> {
    load_kind(path, DocKind::Card, |d| if let Document::Card(c) = d { Some(c.clone()) } else { None })
}

pub fn load_profile(path: &Path) -> Result<(Profile, Loaded), LoadError> {
    load_kind(path, DocKind::Profile, |d| if let Document::Profile(p) = d { Some(p.clone()) } else { None })
}

pub fn load_plan(path: &Path) -> Result<(Plan, Loaded), LoadError> {
    load_kind(path, DocKind::Plan, |d| if let Document::Plan(p) = d { Some(p.clone()) } else { None })
}

fn load_kind<T>(path: &Path, kind: DocKind, pick: impl Fn(&Document) -> Option<T>) -> Result<(T, Loaded), LoadError> {
    let mut loaded = load_file(path);
    let err = |loaded| LoadError { loaded: Box::new(loaded), path: path.display().to_string() };
    if loaded.diagnostics.has_errors() {
        return Err(err(loaded));
    }
    match loaded.document.as_ref().and_then(&pick) {
        Some(value) => Ok((value, loaded)),
        None => {
            let pos = loaded.root.as_ref().and_then(|r| r.entries().first().map(|(k, _)| k.pos)).unwrap_or_default();
            let (found, hint) = match loaded.document.as_ref() {
                Some(d) => (format!(", found a {}", d.kind().noun()), "; are two arguments swapped? Check their order in `--help`"),
                None => (String::new(), ""),
            };
            loaded.diagnostics.push(
                Diagnostic::error(pos, format!("expected a {} (top-level `{}:`){found}", kind.noun(), kind.key()))
                    .suggest(Some(format!("pass a {} file here{hint}", kind.noun()))),
            );
            Err(err(loaded))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_past_its_limit_is_an_error() {
        // A file that grew past its limit after it was checked.
        let mut text = String::new();
        Bounded { inner: "unit\na\n".as_bytes(), left: 7 }.read_to_string(&mut text).unwrap();
        assert_eq!(text, "unit\na\n");
        let e = Bounded { inner: "unit\na\n".as_bytes(), left: 6 }.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "the file grew past its size limit while it was read");
    }

    #[test]
    fn relative_paths_climb_out_of_the_base() {
        assert_eq!(relative_path(Path::new("/a/b/card.yaml"), Path::new("/a/c")), "../b/card.yaml");
        assert_eq!(relative_path(Path::new("/a/b/card.yaml"), Path::new("/a/b")), "card.yaml");
        assert_eq!(relative_path(Path::new("/x.yaml"), Path::new("/a/b")), "../../x.yaml");
    }

    #[test]
    fn a_plan_beside_its_files_names_them_and_keeps_the_rest() {
        let text = "# yaml-language-server: $schema=../../schema/plan.schema.json\n# note\nplan:\n  id: p\n  card: ../../c.yaml\n  deployment: ../d.yaml\n  dataset: ../x.jsonl\n";
        let beside = plan_beside(text, "c.yaml", "d.measured.yaml", "x.jsonl");
        assert_eq!(beside, "# note\nplan:\n  id: p\n  card: c.yaml\n  deployment: d.measured.yaml\n  dataset: x.jsonl\n");
    }

    #[test]
    fn documents_in_memory_are_cards_and_profiles_or_the_first_that_is_not() {
        let card = include_str!("../../../registry/bean-scenarios.yaml");
        let files = [("bean-scenarios.yaml", card)];
        let (cards, profiles) = load_documents(&files).unwrap();
        assert_eq!((cards.len(), profiles.len(), cards[0].id.as_str()), (1, 0, "bean-scenarios"));
        let bad = [("bean-scenarios.yaml", card), ("x.yaml", "plan: {}\n")];
        assert_eq!(load_documents(&bad).unwrap_err().path, "x.yaml");
    }

    #[test]
    fn a_profile_s_tolerances_are_its_groups_that_give_one() {
        let files = [("p.yaml", include_str!("../../../examples/deployments/patient-symptom-chatbot.yaml"))];
        let profile = &load_documents(&files).unwrap().1[0];
        let tolerances = profile.tolerances();
        assert!(!tolerances.is_empty());
        assert_eq!(tolerances.len(), profile.groups.values().filter(|g| g.tolerance.is_some()).count());
        assert_eq!(tolerances[0].1, profile.groups[&tolerances[0].0].tolerance.unwrap());
    }
}
