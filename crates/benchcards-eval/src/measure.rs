//! Stage 2: task assumptions measured from conversation logs alone (SPEC §1, §4). Pure: takes
//! conversations (and, optionally, the benchmark's dataset), returns figures — each with its n
//! and interval — and the deployment-profile values they support. Never touches the network.
//!
//! - **Turns**: messages from the person per conversation; the share with one vs several
//!   (Wilson), the mean (Student t), the median and the 90th percentile (nearest rank).
//! - **Lengths**: words in first messages, in all of the person's messages, in the model's.
//! - **Register** of first messages, against the benchmark's items with `--against`: clinical
//!   terms per 100 words — terms from `clinical-terms.txt` and the dataset's accepted condition
//!   names and synonyms that look clinical (a word with a clinical suffix such as -itis, -osis,
//!   -aemia, -algia, -oma, -pathy, -uria, -ism, or 11+ letters) — and Flesch reading ease
//!   (206.835 − 1.015·words/sentences − 84.6·syllables/words, syllables counted as vowel
//!   groups less a silent final e). Means with t intervals; differences with Welch's.
//! - **Completeness**, for conversations that name a dataset item: the share of the item's key
//!   facts present in the first message and in all of the person's messages (means with t
//!   intervals clipped to 0–1). A fact is present when at least half of its content words, and
//!   at least two when it has two or more, each appear in the text within the graders' fuzzy
//!   tolerance (⌊0.2·L⌋ edits of a substring, L the word's length): people paraphrase, so whole
//!   phrases rarely recur. Negation is not read ("no blood" and "blood" look alike).
//! - **Language** of each conversation (all of the person's messages together), identified
//!   offline (whatlang); a text it is less than half confident about counts as undetermined.

use crate::conditions::sentences;
use crate::dataset::Dataset;
use crate::grade::{fold, substring_distance};
use crate::logs::Conversation;
use benchcards_core::{Evidence, Profile, ProfileDimension, ProfileStatus, Value};
use benchcards_stats::proportion::rate;
use benchcards_stats::summary::{mean_t, median, quantile, welch};
use serde::Serialize;

const CONFIDENCE: f64 = 0.95;

/// The curated clinical terms (comment lines start with `#`).
const CLINICAL_TERMS: &str = include_str!("clinical-terms.txt");

/// Word endings that mark a clinical term among condition names.
const CLINICAL_SUFFIXES: &[&str] =
    &["itis", "osis", "aemia", "emia", "algia", "oma", "pathy", "ectomy", "rrhoea", "rrhea", "uria", "ism", "plasia", "trophy"];

/// One measured figure: value, interval (when one applies), n and how it was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// What it bears on: turns, length, register, completeness, language.
    pub topic: &'static str,
    pub id: String,
    pub label: String,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<[f64; 2]>,
    pub n: usize,
    pub method: &'static str,
}

/// A deployment-profile value the logs support, with the figures behind it in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    pub dimension: &'static str,
    pub value: String,
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub figures: Vec<Figure>,
    pub measured: Vec<Measured>,
    /// Conversations linked to an item of the dataset, and item ids the dataset lacks.
    pub linked: usize,
    pub unknown_items: Vec<String>,
}

/// Words of a text, folded (lower case, accents removed); apostrophes stay inside words.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Syllables of one folded word: vowel groups (y counts as a vowel), less a silent final e,
/// at least one.
pub fn syllables(word: &str) -> usize {
    let is_vowel = |c: char| "aeiouy".contains(c);
    let chars: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    if chars.is_empty() {
        return 1;
    }
    let mut groups = 0;
    let mut prev = false;
    for &c in &chars {
        let v = is_vowel(c);
        if v && !prev {
            groups += 1;
        }
        prev = v;
    }
    let n = chars.len();
    // A final e after a consonant is silent, except in a consonant + "le" ending (ta-ble).
    let consonant_le = |n: usize| chars[n - 2] == 'l' && !is_vowel(chars[n - 3]);
    let silent_e = n > 2 && chars[n - 1] == 'e' && !is_vowel(chars[n - 2]) && !consonant_le(n);
    if silent_e && groups > 1 {
        groups -= 1;
    }
    groups.max(1)
}

/// Flesch reading ease of a text (higher is easier; a text without words has none).
pub fn flesch(text: &str) -> Option<f64> {
    let w = words(text);
    if w.is_empty() {
        return None;
    }
    let syl: usize = w.iter().map(|x| syllables(x)).sum();
    let s = sentences(text).len().max(1);
    Some(206.835 - 1.015 * (w.len() as f64 / s as f64) - 84.6 * (syl as f64 / w.len() as f64))
}

/// The register vocabulary: curated clinical terms, and the dataset's accepted condition names
/// and synonyms that look clinical. Each term is a sequence of folded words.
pub fn vocabulary(datasets: &[&Dataset]) -> Vec<Vec<String>> {
    let mut terms: Vec<Vec<String>> =
        CLINICAL_TERMS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(words).collect();
    let clinical = |w: &String| w.chars().count() >= 11 || CLINICAL_SUFFIXES.iter().any(|s| w.ends_with(s) && w.len() > s.len() + 2);
    for ds in datasets {
        for item in &ds.items {
            for name in item.gold.names() {
                let t = words(&name);
                if t.iter().any(clinical) {
                    terms.push(t);
                }
            }
        }
    }
    terms.sort();
    terms.dedup();
    // Longest first, so "past medical history" is counted once, not as "history of" too.
    terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
    terms
}

/// Clinical terms per 100 words: non-overlapping occurrences of vocabulary terms.
pub fn clinical_density(text: &str, vocab: &[Vec<String>]) -> Option<f64> {
    let w = words(text);
    if w.is_empty() {
        return None;
    }
    let mut used = vec![false; w.len()];
    let mut hits = 0;
    for term in vocab {
        let k = term.len();
        if k == 0 || k > w.len() {
            continue;
        }
        let mut i = 0;
        while i + k <= w.len() {
            if !used[i..i + k].iter().any(|u| *u) && w[i..i + k] == term[..] {
                used[i..i + k].iter_mut().for_each(|u| *u = true);
                hits += 1;
                i += k;
            } else {
                i += 1;
            }
        }
    }
    Some(100.0 * hits as f64 / w.len() as f64)
}

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "was", "are", "has", "have", "had", "not", "but", "from", "into", "that", "this", "when", "than", "then",
    "your", "you", "his", "her", "she", "him", "they", "them", "their", "its", "it's", "been", "about", "very", "any", "all", "can",
    "does", "did", "out", "off", "over", "under", "most", "some", "one", "who", "what", "which", "both", "each", "also", "just",
];

/// Content words of a key fact: folded words of three letters or more (or numbers) that are
/// not stop words.
fn content_words(fact: &str) -> Vec<Vec<char>> {
    words(fact)
        .into_iter()
        .filter(|w| (w.chars().count() >= 3 || w.chars().all(|c| c.is_ascii_digit())) && !STOPWORDS.contains(&w.as_str()))
        .map(|w| w.chars().collect())
        .collect()
}

/// Whether a key fact is present in a text: at least half of its content words (and at least two
/// when it has two or more) appear, each within ⌊0.2·L⌋ edits of a substring (the graders'
/// tolerance).
pub fn fact_present(fact: &str, text: &str) -> bool {
    let cw = content_words(fact);
    if cw.is_empty() {
        return false;
    }
    let t: Vec<char> = fold(text).chars().collect();
    let found = cw.iter().filter(|w| substring_distance(w, &t) <= w.len() / 5).count();
    2 * found >= cw.len() && found >= cw.len().min(2)
}

/// BCP-47 primary subtag of a language whatlang identifies: the ISO 639-1 code where one
/// exists, else its ISO 639-3 code.
fn bcp47(lang: whatlang::Lang) -> String {
    const TWO: &[(&str, &str)] = &[
        ("eng", "en"),
        ("spa", "es"),
        ("fra", "fr"),
        ("deu", "de"),
        ("ita", "it"),
        ("por", "pt"),
        ("nld", "nl"),
        ("pol", "pl"),
        ("rus", "ru"),
        ("ukr", "uk"),
        ("ara", "ar"),
        ("cmn", "zh"),
        ("jpn", "ja"),
        ("kor", "ko"),
        ("hin", "hi"),
        ("urd", "ur"),
        ("ben", "bn"),
        ("pan", "pa"),
        ("tur", "tr"),
        ("ron", "ro"),
        ("swe", "sv"),
        ("dan", "da"),
        ("nob", "nb"),
        ("fin", "fi"),
        ("ell", "el"),
        ("heb", "he"),
        ("vie", "vi"),
        ("tha", "th"),
        ("ind", "id"),
        ("tam", "ta"),
        ("guj", "gu"),
        ("pes", "fa"),
        ("ces", "cs"),
        ("hun", "hu"),
        ("cat", "ca"),
        ("hrv", "hr"),
        ("srp", "sr"),
        ("bul", "bg"),
        ("slk", "sk"),
        ("lit", "lt"),
    ];
    let code = lang.code();
    TWO.iter().find(|(three, _)| *three == code).map_or(code, |(_, two)| two).to_string()
}

/// The language of a text, when whatlang is at least half confident (short texts rarely are).
pub fn language(text: &str) -> Option<String> {
    whatlang::detect(text).filter(|i| i.confidence() >= 0.5).map(|i| bcp47(i.lang()))
}

fn count_words(text: &str) -> f64 {
    words(text).len() as f64
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The per-conversation values every figure is computed from.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Messages from the person, per conversation.
    pub turns: Vec<f64>,
    pub first_words: Vec<f64>,
    /// Words per message from the person, and from the model.
    pub user_words: Vec<f64>,
    /// Words per message from the person, averaged within each conversation (one value per
    /// conversation, so a comparison does not count a long conversation's messages as
    /// independent).
    pub user_words_by_conversation: Vec<f64>,
    pub model_words: Vec<f64>,
    /// Clinical terms per 100 words and Flesch reading ease of first messages.
    pub density: Vec<f64>,
    pub ease: Vec<f64>,
    /// Share of the linked item's key facts in the first message, and by the end.
    pub at_first: Vec<f64>,
    pub by_end: Vec<f64>,
    /// Each conversation's language, when identified.
    pub languages: Vec<Option<String>>,
    pub linked: usize,
    pub unknown_items: Vec<String>,
}

impl Samples {
    /// Reads them from conversations; key facts need `against`, the dataset the conversations'
    /// items come from.
    pub fn of(convs: &[Conversation], against: Option<&Dataset>, vocab: &[Vec<String>]) -> Samples {
        let firsts: Vec<&str> = convs.iter().filter_map(|c| c.user_messages().next()).collect();
        let mut s = Samples {
            turns: convs.iter().map(|c| c.user_messages().count() as f64).collect(),
            first_words: firsts.iter().map(|t| count_words(t)).collect(),
            user_words: convs.iter().flat_map(|c| c.user_messages().map(count_words)).collect(),
            user_words_by_conversation: convs
                .iter()
                .map(|c| c.user_messages().map(count_words).sum::<f64>() / c.user_messages().count().max(1) as f64)
                .collect(),
            model_words: convs
                .iter()
                .flat_map(|c| c.messages.iter().filter(|m| m.role == "assistant").map(|m| count_words(&m.content)))
                .collect(),
            density: firsts.iter().filter_map(|t| clinical_density(t, vocab)).collect(),
            ease: firsts.iter().filter_map(|t| flesch(t)).collect(),
            languages: convs.iter().map(|c| language(&c.user_messages().collect::<Vec<_>>().join("\n"))).collect(),
            ..Samples::default()
        };
        if let Some(ds) = against {
            for c in convs {
                let Some(id) = &c.item else { continue };
                let Some(item) = ds.item(id) else {
                    s.unknown_items.push(id.clone());
                    continue;
                };
                s.linked += 1;
                let facts = &item.gold.key_facts;
                if facts.is_empty() {
                    continue;
                }
                let first = c.user_messages().next().unwrap_or("");
                let all: String = c.user_messages().collect::<Vec<_>>().join("\n");
                let share = |text: &str| facts.iter().filter(|f| fact_present(f, text)).count() as f64 / facts.len() as f64;
                s.at_first.push(share(first));
                s.by_end.push(share(&all));
            }
            s.unknown_items.sort();
            s.unknown_items.dedup();
        }
        s
    }

    /// Conversations with more than one message from the person.
    pub fn multi_turn(&self) -> usize {
        self.turns.iter().filter(|t| **t > 1.0).count()
    }

    /// Conversations identified as `lang`.
    pub fn in_language(&self, lang: &str) -> usize {
        self.languages.iter().filter(|l| l.as_deref() == Some(lang)).count()
    }
}

/// Everything `measure` reports for a set of conversations.
pub fn measure(convs: &[Conversation], against: Option<&Dataset>, vocab: &[Vec<String>]) -> Measurement {
    let mut figures = Vec::new();
    let mut measured = Vec::new();
    let n = convs.len();
    let samples = Samples::of(convs, against, vocab);
    let Samples {
        turns,
        first_words,
        user_words,
        model_words,
        density,
        ease,
        at_first,
        by_end,
        languages: langs,
        linked,
        unknown_items,
        ..
    } = &samples;
    let push_mean = |figures: &mut Vec<Figure>, topic: &'static str, id: &str, label: &str, values: &[f64]| {
        if let Some(m) = mean_t(values, CONFIDENCE) {
            figures.push(Figure { topic, id: id.into(), label: label.into(), value: m.mean, ci: m.ci, n: m.n, method: "mean, Student t" });
        }
    };
    let push_share = |figures: &mut Vec<Figure>, topic: &'static str, id: &str, label: &str, x: usize, n: usize| {
        let r = rate(x as f64, n as f64, CONFIDENCE);
        figures.push(Figure { topic, id: id.into(), label: label.into(), value: r.p, ci: Some(r.ci), n, method: "proportion, Wilson" });
    };
    let push_value = |figures: &mut Vec<Figure>, topic: &'static str, id: &str, label: &str, v: Option<f64>, n: usize, method| {
        if let Some(value) = v {
            figures.push(Figure { topic, id: id.into(), label: label.into(), value, ci: None, n, method });
        }
    };

    // Turns.
    let multi = samples.multi_turn();
    push_share(&mut figures, "turns", "single_turn_share", "conversations with one message from the person", n - multi, n);
    push_share(&mut figures, "turns", "multi_turn_share", "conversations with several messages from the person", multi, n);
    push_mean(&mut figures, "turns", "user_turns_mean", "messages from the person per conversation", turns);
    push_value(&mut figures, "turns", "user_turns_median", "messages from the person per conversation, median", median(turns), n, "median");
    push_value(
        &mut figures,
        "turns",
        "user_turns_p90",
        "messages from the person per conversation, 90th percentile",
        quantile(turns, 0.9),
        n,
        "nearest rank",
    );
    if n > 0 {
        let share = multi as f64 / n as f64;
        let r = rate(multi as f64, n as f64, CONFIDENCE);
        measured.push(Measured {
            dimension: "interaction_mode",
            value: if share >= 0.5 { "multi_turn_human" } else { "single_turn" }.into(),
            basis: format!(
                "{multi} of {n} conversations ({}, 95% CI {} to {}) hold more than one message from the person; median {} per conversation, 90th percentile {}",
                pct(r.p),
                pct(r.ci[0]),
                pct(r.ci[1]),
                median(turns).unwrap_or(0.0),
                quantile(turns, 0.9).unwrap_or(0.0)
            ),
        });
    }

    // Lengths.
    push_mean(&mut figures, "length", "first_message_words_mean", "words in the first message", first_words);
    push_value(
        &mut figures,
        "length",
        "first_message_words_median",
        "words in the first message, median",
        median(first_words),
        first_words.len(),
        "median",
    );
    push_mean(&mut figures, "length", "user_message_words_mean", "words per message from the person", user_words);
    push_mean(&mut figures, "length", "assistant_message_words_mean", "words per message from the model", model_words);

    // Register.
    push_mean(&mut figures, "register", "first_message_clinical_terms", "clinical terms per 100 words, first messages", density);
    push_mean(&mut figures, "register", "first_message_flesch", "Flesch reading ease, first messages", ease);
    let mut register_basis = format!(
        "first messages: {:.1} clinical terms per 100 words, Flesch reading ease {:.1} (n = {})",
        mean_t(density, CONFIDENCE).map_or(f64::NAN, |m| m.mean),
        mean_t(ease, CONFIDENCE).map_or(f64::NAN, |m| m.mean),
        density.len()
    );
    if let Some(ds) = against {
        let item_density: Vec<f64> = ds.items.iter().filter_map(|i| clinical_density(&i.vignette, vocab)).collect();
        let item_ease: Vec<f64> = ds.items.iter().filter_map(|i| flesch(&i.vignette)).collect();
        push_mean(&mut figures, "register", "item_clinical_terms", "clinical terms per 100 words, the benchmark's items", &item_density);
        push_mean(&mut figures, "register", "item_flesch", "Flesch reading ease, the benchmark's items", &item_ease);
        for (id, label, a, b) in [
            ("clinical_terms_difference", "clinical terms per 100 words, first messages − items", density, &item_density),
            ("flesch_difference", "Flesch reading ease, first messages − items", ease, &item_ease),
        ] {
            if let Some((d, ci)) = welch(a, b, CONFIDENCE) {
                figures.push(Figure {
                    topic: "register",
                    id: id.into(),
                    label: label.into(),
                    value: d,
                    ci: Some(ci),
                    n: a.len() + b.len(),
                    method: "difference of means, Welch",
                });
            }
        }
        register_basis.push_str(&format!(
            "; the benchmark's items: {:.1} clinical terms per 100 words, Flesch reading ease {:.1} (n = {})",
            mean_t(&item_density, CONFIDENCE).map_or(f64::NAN, |m| m.mean),
            mean_t(&item_ease, CONFIDENCE).map_or(f64::NAN, |m| m.mean),
            item_density.len()
        ));
    }
    if n > 0 {
        measured.push(Measured { dimension: "input_source", value: "real_user_queries".into(), basis: register_basis });
    }

    // Completeness, for conversations linked to items with key facts.
    if against.is_some() {
        for (id, label, values) in [
            ("key_facts_first_message", "share of the item's key facts in the first message", at_first),
            ("key_facts_by_end", "share of the item's key facts in all of the person's messages", by_end),
        ] {
            if let Some(m) = mean_t(values, CONFIDENCE) {
                let ci = m.ci.map(|[lo, hi]| [lo.max(0.0), hi.min(1.0)]);
                figures.push(Figure {
                    topic: "completeness",
                    id: id.into(),
                    label: label.into(),
                    value: m.mean,
                    ci,
                    n: m.n,
                    method: "mean share, Student t clipped to 0–1",
                });
            }
        }
        if let Some(m) = mean_t(at_first, CONFIDENCE) {
            let end = mean_t(by_end, CONFIDENCE).map_or(f64::NAN, |m| m.mean);
            let value = if m.mean >= 0.9 {
                "complete"
            } else if m.mean >= 0.5 {
                "partial"
            } else {
                "elicitation_required"
            };
            let ci = m.ci.map_or_else(
                || "no interval with one conversation".to_string(),
                |[lo, hi]| format!("95% CI {} to {}", pct(lo.max(0.0)), pct(hi.min(1.0))),
            );
            measured.push(Measured {
                dimension: "information_completeness",
                value: value.into(),
                basis: format!(
                    "first messages hold {} of their item's key facts on average ({ci}; n = {} linked conversations), {} by the end of the conversation",
                    pct(m.mean),
                    m.n,
                    pct(end)
                ),
            });
        }
    }

    // Language.
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for l in langs {
        *counts.entry(l.clone().unwrap_or_else(|| "undetermined".into())).or_default() += 1;
    }
    let mut ordered: Vec<(String, usize)> = counts.into_iter().collect();
    ordered.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (lang, k) in &ordered {
        push_share(&mut figures, "language", &format!("language_{lang}"), &format!("conversations in {lang}"), *k, n);
    }
    if let Some((top, k)) = ordered.iter().find(|(l, _)| l != "undetermined") {
        let shares: Vec<String> = ordered.iter().map(|(l, k)| format!("{l} {k}")).collect();
        measured.push(Measured {
            dimension: "language",
            value: top.clone(),
            basis: format!("{k} of {n} conversations identified as {top} ({})", shares.join(", ")),
        });
    }

    Measurement { figures, measured, linked: *linked, unknown_items: unknown_items.clone() }
}

/// Whether a difference between simulated and real conversations is within its tolerance: the
/// whole interval inside ±tolerance, the whole interval outside it, or neither (more data would
/// tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Within,
    Outside,
    Undetermined,
}

/// One figure of simulated conversations against real ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub id: &'static str,
    pub label: String,
    pub simulated: f64,
    pub real: f64,
    /// Simulated − real, with its interval.
    pub difference: f64,
    pub ci: [f64; 2],
    pub n_simulated: usize,
    pub n_real: usize,
    pub method: &'static str,
    pub tolerance: f64,
    pub verdict: Verdict,
}

/// The figures `measure --compare` compares, each with its default tolerance (in the figure's
/// own unit; a `--tolerance ID=VALUE` replaces it).
pub const COMPARED: [(&str, f64); 9] = [
    ("user_turns_mean", 1.0),
    ("multi_turn_share", 0.1),
    ("first_message_words_mean", 10.0),
    ("user_message_words_mean", 10.0),
    ("first_message_clinical_terms", 1.0),
    ("first_message_flesch", 10.0),
    ("key_facts_first_message", 0.1),
    ("key_facts_by_end", 0.1),
    ("main_language_share", 0.1),
];

/// A `--tolerance FIGURE=VALUE` flag: a figure `measure --compare` compares, and a tolerance.
pub fn figure_tolerance(s: &str) -> Result<(String, f64), String> {
    let known = || COMPARED.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(", ");
    let (id, value) = s.split_once('=').ok_or_else(|| format!("`{s}` is not FIGURE=VALUE (figures: {})", known()))?;
    if !COMPARED.iter().any(|(c, _)| *c == id.trim()) {
        return Err(format!("`{id}` is no figure `--compare` compares; one of {}", known()));
    }
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok((id.trim().to_string(), v)),
        _ => Err(format!("the tolerance `{value}` is not a number of 0 or more")),
    }
}

/// Simulated conversations against real ones (process calibration): for each figure of
/// [`COMPARED`] both values, their difference with its interval (Welch for means, Newcombe's
/// hybrid score for shares) and the verdict against its tolerance. Every value is one per
/// conversation. Key facts need `against`; the language compared is the real conversations' most
/// common one, as a share of the conversations whose language was identified.
pub fn compare(simulated: &Samples, real: &Samples, tolerances: &[(String, f64)]) -> Vec<Comparison> {
    use benchcards_stats::proportion::newcombe_unpaired;
    let tolerance = |id: &str, default: f64| tolerances.iter().find(|(t, _)| t == id).map_or(default, |(_, v)| *v);
    let mut out = Vec::new();
    let mut push = |id: &'static str, label: String, sim: f64, real: f64, d: Option<(f64, [f64; 2])>, n: (usize, usize), method| {
        let Some((difference, ci)) = d else { return };
        let tol = tolerance(id, COMPARED.iter().find(|(c, _)| *c == id).map_or(0.0, |(_, t)| *t));
        let verdict = if ci[0] >= -tol && ci[1] <= tol {
            Verdict::Within
        } else if ci[0] > tol || ci[1] < -tol {
            Verdict::Outside
        } else {
            Verdict::Undetermined
        };
        out.push(Comparison {
            id,
            label,
            simulated: sim,
            real,
            difference,
            ci,
            n_simulated: n.0,
            n_real: n.1,
            method,
            tolerance: tol,
            verdict,
        });
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let means: [(&'static str, &str, &[f64], &[f64]); 7] = [
        ("user_turns_mean", "messages from the person per conversation", &simulated.turns, &real.turns),
        ("first_message_words_mean", "words in the first message", &simulated.first_words, &real.first_words),
        (
            "user_message_words_mean",
            "words per message from the person, averaged per conversation",
            &simulated.user_words_by_conversation,
            &real.user_words_by_conversation,
        ),
        ("first_message_clinical_terms", "clinical terms per 100 words, first messages", &simulated.density, &real.density),
        ("first_message_flesch", "Flesch reading ease, first messages", &simulated.ease, &real.ease),
        ("key_facts_first_message", "share of the item's key facts in the first message", &simulated.at_first, &real.at_first),
        ("key_facts_by_end", "share of the item's key facts by the end", &simulated.by_end, &real.by_end),
    ];
    let share = |x: usize, n: usize| x as f64 / n.max(1) as f64;
    let (ns, nr) = (simulated.turns.len(), real.turns.len());
    let (ms, mr) = (simulated.multi_turn(), real.multi_turn());
    let newcombe = |xs: usize, xr: usize| {
        (ns > 0 && nr > 0)
            .then(|| (share(xs, ns) - share(xr, nr), newcombe_unpaired(xs as f64, ns as f64, xr as f64, nr as f64, CONFIDENCE)))
    };
    for (i, (id, label, a, b)) in means.into_iter().enumerate() {
        push(id, label.into(), mean(a), mean(b), welch(a, b, CONFIDENCE), (a.len(), b.len()), "difference of means, Welch");
        if i == 0 {
            let label = "conversations with several messages from the person".to_string();
            push("multi_turn_share", label, share(ms, ns), share(mr, nr), newcombe(ms, mr), (ns, nr), "difference of shares, Newcombe");
        }
    }
    let mut langs: Vec<&String> = real.languages.iter().flatten().collect();
    langs.sort();
    let main = langs.chunk_by(|a, b| a == b).max_by_key(|c| c.len()).and_then(|c| c.first().copied());
    // Among conversations whose language was identified (short messages often are not).
    if let Some(lang) = main {
        let identified = |s: &Samples| s.languages.iter().flatten().count();
        let (is, ir) = (identified(simulated), identified(real));
        let (xs, xr) = (simulated.in_language(lang), real.in_language(lang));
        let d =
            (is > 0).then(|| (share(xs, is) - share(xr, ir), newcombe_unpaired(xs as f64, is as f64, xr as f64, ir as f64, CONFIDENCE)));
        let label = format!("conversations in {lang} (the real ones' main language), of those identified");
        push("main_language_share", label, share(xs, is), share(xr, ir), d, (is, ir), "difference of shares, Newcombe");
    }
    out
}

/// A deployment profile carrying a measurement: `base` (or a new profile named after the logs)
/// with each measured dimension's value, `status: measured`, and the figures as evidence from
/// `source`. A measured language keeps the base profile's region when the languages agree
/// (logs say `en`; the profile's `en-GB` stays).
pub fn to_profile(base: Option<Profile>, m: &Measurement, source: &str, stem: &str) -> Profile {
    let mut p = base.unwrap_or_else(|| Profile {
        version: 1,
        id: format!("measured-{}", benchcards_core::validate::slugify(stem)),
        name: format!("Deployment measured from {source}"),
        description: Some("Written by `benchcards measure`: only the dimensions the logs measure are set; declare the rest.".into()),
        as_of: None,
        dimensions: Default::default(),
        groups: Default::default(),
        case_mix: Default::default(),
        persona_mix: Default::default(),
        overrides: Vec::new(),
    });
    for d in &m.measured {
        let declared = p.dimensions.get(d.dimension).and_then(|x| x.value.clone());
        let value = match declared {
            Some(Value::One(tag)) if d.dimension == "language" && tag.split('-').next() == Some(d.value.as_str()) => tag,
            _ => d.value.clone(),
        };
        p.dimensions.insert(
            d.dimension.to_string(),
            ProfileDimension {
                value: Some(Value::One(value)),
                status: ProfileStatus::Measured,
                evidence: vec![Evidence {
                    source: source.to_string(),
                    location: Some("benchcards measure".into()),
                    quote: Some(d.basis.clone()),
                }],
                note: None,
            },
        );
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_syllables_and_sentences() {
        assert_eq!(words("I've a  45-year-old's Café-au-lait rash!"), ["i've", "a", "45", "year", "old's", "cafe", "au", "lait", "rash"]);
        for (w, s) in
            [("the", 1), ("cake", 1), ("table", 2), ("headache", 2), ("dyspnoea", 2), ("ibuprofen", 4), ("rhythm", 1), ("a", 1), ("45", 1)]
        {
            assert_eq!(syllables(w), s, "{w}");
        }
        assert_eq!(sentences("Hi. How are you?? fine"), ["Hi.", "How are you??", "fine"]);
        assert_eq!(sentences("no punctuation at all").len(), 1);
        assert_eq!(sentences("...").len(), 0);
        // "The cat sat." 3 words, 1 sentence, 3 syllables: 206.835 − 1.015·3 − 84.6·1.
        assert!((flesch("The cat sat.").unwrap() - (206.835 - 3.045 - 84.6)).abs() < 1e-9);
        assert_eq!(flesch("?!"), None);
        // "chest pain after eating": 4 words, 1 sentence, 1 + 1 + 2 + 2 syllables.
        assert!((flesch("chest pain after eating").unwrap() - (206.835 - 1.015 * 4.0 - 84.6 * 1.5)).abs() < 1e-9);
    }

    #[test]
    fn clinical_terms_are_counted_once_each_longest_first() {
        let vocab = vocabulary(&[]);
        // 8 words; "presents", "acute", "dyspnoea" and "past medical history" (one term, not
        // "history of" as well): 4 terms → 50 per 100 words.
        let d = clinical_density("Presents with acute dyspnoea; past medical history unremarkable", &vocab).unwrap();
        assert!((d - 50.0).abs() < 1e-9, "{d}");
        assert_eq!(clinical_density("my chest hurts when i breathe in", &vocab), Some(0.0));
        let ds = crate::dataset::parse_dataset(
            r#"{"id": "a", "vignette": "v", "gold": {"conditions": [{"name": "gastroenteritis", "synonyms": ["stomach bug"]}, {"name": "common cold"}]}}"#,
        )
        .unwrap();
        let v = vocabulary(&[&ds]);
        assert!(v.contains(&vec!["gastroenteritis".to_string()]), "a clinical suffix");
        assert!(
            !v.contains(&vec!["stomach".to_string(), "bug".to_string()]) && !v.contains(&vec!["common".to_string(), "cold".to_string()])
        );
    }

    #[test]
    fn key_facts_are_found_with_the_graders_tolerance() {
        assert!(fact_present("blocked and runny nose", "blocked nose and sore throat since monday"), "2 of 3 content words");
        assert!(fact_present("at netball training", "netball, at training"), "2 of 2 content words");
        assert!(!fact_present("no blood in the diarrhoea", "now diarrhoea"), "1 of 2 content words is not enough");
        assert!(fact_present("temperature of 38.1", "her temprature was 38.1"), "numbers count as words");
        assert!(!fact_present("bruise below the ankle bone", "my ankle hurts"), "1 of 4 content words");
        assert!(!fact_present("mild dry cough", "blocked nose and sore throat"));
        assert!(
            fact_present("outside of right ankle is swollen", "rolled my right ankel, swolen on the outside"),
            "typos within tolerance"
        );
        assert!(!fact_present("started three days ago", "for 3 days"), "numbers are words, not digits");
        assert!(!fact_present("the and", "the and"), "no content words, nothing to find");
    }

    #[test]
    fn language_needs_enough_text_to_be_reliable() {
        assert_eq!(language("tengo fiebre y dolor de garganta desde hace dos días, ¿necesito ir al médico?").as_deref(), Some("es"));
        assert_eq!(language("I have had a blocked nose and a sore throat for three days and a bit of a cough").as_deref(), Some("en"));
        assert_eq!(language("ok"), None);
    }

    #[test]
    fn a_difference_is_within_outside_or_undetermined_by_its_whole_interval() {
        let turns =
            |multi: usize, n: usize| Samples { turns: (0..n).map(|i| if i < multi { 2.0 } else { 1.0 }).collect(), ..Samples::default() };
        let verdict = |sim: &Samples, real: &Samples, tol: f64| {
            let c = compare(sim, real, &[("multi_turn_share".into(), tol)]);
            let x = c.into_iter().find(|c| c.id == "multi_turn_share").unwrap();
            (x.difference, x.verdict)
        };
        // Everyone writes twice against no one: the whole interval is far above ±0.1.
        assert_eq!(verdict(&turns(100, 100), &turns(0, 100), 0.1), (1.0, Verdict::Outside));
        // Half and half: the interval (about ±0.14) fits in ±0.2 but not in ±0.1.
        assert_eq!(verdict(&turns(50, 100), &turns(50, 100), 0.2), (0.0, Verdict::Within));
        assert_eq!(verdict(&turns(50, 100), &turns(50, 100), 0.1), (0.0, Verdict::Undetermined));
        // The tolerance flag names a known figure and a number of 0 or more.
        assert_eq!(figure_tolerance("first_message_flesch=5").unwrap(), ("first_message_flesch".to_string(), 5.0));
        assert!(figure_tolerance("flesch=5").unwrap_err().contains("one of user_turns_mean"));
        assert!(figure_tolerance("first_message_flesch=-1").is_err() && figure_tolerance("first_message_flesch").is_err());
    }
}
