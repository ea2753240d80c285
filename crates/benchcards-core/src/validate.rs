//! Checks that need the taxonomy or cross-field knowledge, after the types have been read.
//! Every diagnostic points at the node it concerns.

use crate::diag::{Diagnostic, Diagnostics, Pos, nearest};
use crate::model::*;
use crate::taxonomy::{InvalidValue, Rule, Taxonomy, parse_date};
use crate::yaml::Node;
use indexmap::IndexMap;
use std::path::Path;

/// Locates nodes below one root (the value of `benchcard:`, `deployment:` or `plan:`).
struct Ctx<'a> {
    root: &'a Node,
    diags: Diagnostics,
}

impl<'a> Ctx<'a> {
    /// The node at `path`, or its nearest existing ancestor.
    fn locate(&self, path: &[&str]) -> (Pos, usize) {
        for cut in (0..=path.len()).rev() {
            if let Some(n) = self.root.at_path(&path[..cut]) {
                return (n.pos, n.len);
            }
        }
        (self.root.pos, 1)
    }
    /// The key `path`'s last element names (for errors about a key rather than its value).
    fn locate_key(&self, path: &[&str]) -> (Pos, usize) {
        if let Some((last, parent)) = path.split_last()
            && let Some(k) = self.root.at_path(parent).and_then(|p| p.key(last))
        {
            return (k.pos, k.text.chars().count());
        }
        self.locate(path)
    }
    fn error(&mut self, path: &[&str], message: impl Into<String>) -> &mut Diagnostic {
        let (pos, len) = self.locate(path);
        self.diags.push(Diagnostic::error(pos, message).len(len));
        self.diags.0.last_mut().expect("just pushed")
    }
    fn key_error(&mut self, path: &[&str], message: impl Into<String>) -> &mut Diagnostic {
        let (pos, len) = self.locate_key(path);
        self.diags.push(Diagnostic::error(pos, message).len(len));
        self.diags.0.last_mut().expect("just pushed")
    }
    fn warning(&mut self, path: &[&str], message: impl Into<String>) -> &mut Diagnostic {
        let (pos, len) = self.locate(path);
        self.diags.push(Diagnostic::warning(pos, message).len(len));
        self.diags.0.last_mut().expect("just pushed")
    }
    fn invalid(&mut self, path: &[&str], e: InvalidValue) {
        let d = self.error(path, e.message);
        d.expected = Some(e.expected);
        d.suggestion = e.suggestion;
    }
    fn version(&mut self, version: u32) {
        if version != 1 {
            self.error(&["version"], format!("unsupported format version {version}")).expected = Some("`version: 1`".into());
        }
    }
    fn slug(&mut self, id: &str) {
        let ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') && !id.starts_with('-');
        if !ok {
            let slug = slugify(id);
            let d = self.error(&["id"], format!("id `{id}` is not a slug"));
            d.expected = Some("lowercase letters, digits and hyphens".into());
            d.suggestion = (!slug.is_empty()).then(|| format!("use `{slug}`"));
        }
    }
    fn url(&mut self, path: &[&str], url: &str) {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
            let d = self.error(path, format!("`{url}` is not a web address"));
            d.expected = Some("a URL starting with `https://`".into());
        }
    }
    fn evidence(&mut self, path: &[&str], evidence: &[Evidence]) {
        for (i, e) in evidence.iter().enumerate() {
            let idx = i.to_string();
            let p = [path, &[idx.as_str(), "source"]].concat();
            if e.source.trim().is_empty() {
                self.error(&p, "evidence without a source").expected = Some("a URL or citation".into());
            } else if e.source.contains("://") {
                self.url(&p, &e.source);
            }
        }
    }
    fn shares(&mut self, path: &[&str], shares: &[(String, f64)], tolerance: f64) {
        let mut sum = 0.0;
        for (k, s) in shares {
            if !(0.0..=1.0).contains(s) || s.is_nan() {
                self.error(&[path, &[k.as_str()]].concat(), format!("share {s} of `{k}` is outside 0–1")).expected =
                    Some("a share between 0 and 1".into());
            }
            sum += s;
        }
        if (sum - 1.0).abs() > tolerance {
            let d = self.error(path, format!("shares sum to {} instead of 1", (sum * 1000.0).round() / 1000.0));
            d.expected = Some("shares summing to 1 (e.g. `patient: 0.7` and `caregiver: 0.3`)".into());
            d.suggestion = Some("fix the shares so they add up to 1".into());
        }
    }
    fn duplicates(&mut self, path: &[&str], ids: &[&str]) {
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) {
                let idx = i.to_string();
                self.error(&[path, &[idx.as_str()]].concat(), format!("`{id}` is listed twice"));
            }
        }
    }

    /// Checks a dimension's value against its rule and vocabulary.
    fn dimension_value(&mut self, t: &Taxonomy, dim_id: &str, value: &Value, section: &str) {
        let Some(dim) = t.dimension(dim_id) else { return };
        let path = [section, dim_id, "value"];
        let shape_ok = match (dim.rule, value) {
            (Rule::Categorical | Rule::Ordinal, Value::Set(_)) => {
                let d = self.error(&path, format!("`{dim_id}` takes one value, or a mixture of values with shares"));
                d.expected = Some("`value: x` or `value: {x: 0.7, y: 0.3}`".into());
                false
            }
            (Rule::Set, Value::Mixture(_)) if !dim.shares => {
                let d = self.error(&path, format!("`{dim_id}` takes a list of values, without shares"));
                d.expected = Some("`value: [x, y]`".into());
                false
            }
            (Rule::Currency, Value::Set(_) | Value::Mixture(_)) => {
                self.error(&path, "`currency` takes one date").expected = Some("`value: \"2023-06\"`".into());
                false
            }
            _ => true,
        };
        if !shape_ok {
            return;
        }
        match value {
            Value::One(v) => {
                if let Err(e) = t.check_dimension_value(dim, v) {
                    self.invalid(&path, e);
                }
            }
            Value::Set(vs) => {
                for (i, v) in vs.iter().enumerate() {
                    if let Err(e) = t.check_dimension_value(dim, v) {
                        let idx = i.to_string();
                        self.invalid(&[&path[..], &[idx.as_str()]].concat(), e);
                    }
                }
                self.duplicates(&path, &value.ids());
            }
            Value::Mixture(m) => {
                for (v, _) in m {
                    if let Err(e) = t.check_dimension_value(dim, v) {
                        let (pos, len) = self.locate_key(&[&path[..], &[v.as_str()]].concat());
                        self.diags.push(Diagnostic::error(pos, e.message).len(len).expected(e.expected).suggest(e.suggestion));
                    }
                }
                self.shares(&path, m, t.share_sum_tolerance);
            }
        }
    }

    /// Maps dimension keys onto taxonomy ids: aliases are renamed with a warning, unknown keys
    /// are errors with the nearest id. Returns the entries in taxonomy order.
    fn dimension_keys<T: Clone>(&mut self, t: &Taxonomy, section: &str, entries: &IndexMap<String, T>) -> IndexMap<String, T> {
        let mut out: Vec<(String, T)> = Vec::new();
        for (key, entry) in entries {
            let id = if t.dimension(key).is_some() {
                key.clone()
            } else if let Some(dim) = t.dimension_alias(key) {
                let d = self.diags_key_warning(&[section, key], format!("`{key}` is the old name of `{}`", dim.id));
                d.suggestion = Some(format!("rename it to `{}`", dim.id));
                dim.id.clone()
            } else if t.flag(key).is_some() {
                let d = self.key_error(&[section, key], format!("`{key}` is a quality flag, not a dimension"));
                d.suggestion = Some("move it under `flags:`".into());
                continue;
            } else {
                let ids = t
                    .dimensions
                    .iter()
                    .map(|d| d.id.as_str())
                    .chain(t.dimensions.iter().flat_map(|d| d.aliases.iter().map(String::as_str)));
                let suggestion =
                    nearest(key, ids).map(|s| format!("did you mean `{}`?", t.dimension_alias(&s).map_or(s.clone(), |d| d.id.clone())));
                let d = self.key_error(&[section, key], format!("unknown dimension `{key}`"));
                d.expected = Some("a dimension id from `benchcards taxonomy`".into());
                d.suggestion = suggestion;
                continue;
            };
            if out.iter().any(|(k, _)| *k == id) {
                self.key_error(&[section, key], format!("dimension `{id}` is given twice (once under an old name)"));
                continue;
            }
            out.push((id, entry.clone()));
        }
        out.sort_by_key(|(k, _)| t.dimension_index(k));
        // A dimension left out for an error in it is listed all the same: its error says what is wrong.
        let written: Vec<&str> =
            self.root.at_path(&[section]).map_or(Vec::new(), |n| n.entries().iter().map(|(k, _)| k.text.as_str()).collect());
        let missing: Vec<&str> =
            t.dimensions.iter().map(|d| d.id.as_str()).filter(|id| !out.iter().any(|(k, _)| k == id) && !written.contains(id)).collect();
        if !missing.is_empty() {
            let (pos, len) = self.locate_key(&[section]);
            self.diags.push(
                Diagnostic::warning(pos, format!("{} dimension(s) not listed: {}", missing.len(), missing.join(", ")))
                    .len(len)
                    .suggest(Some("list every dimension; write `status: not_specified` where the answer is unknown".into())),
            );
        }
        out.into_iter().collect()
    }

    fn diags_key_warning(&mut self, path: &[&str], message: String) -> &mut Diagnostic {
        let (pos, len) = self.locate_key(path);
        self.diags.push(Diagnostic::warning(pos, message).len(len));
        self.diags.0.last_mut().expect("just pushed")
    }
}

/// A slug from any text: lowercase ASCII letters and digits, runs of anything else as one hyphen.
pub fn slugify(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Validates a card; renames alias keys to canonical ids and orders dimensions as the taxonomy.
pub fn validate_card(card: &mut Card, root: &Node, t: &Taxonomy) -> Diagnostics {
    let mut cx = Ctx { root, diags: Diagnostics::default() };
    cx.version(card.version);
    cx.slug(&card.id);
    for (i, link) in card.links.iter().enumerate() {
        cx.url(&["links", &i.to_string(), "url"], &link.url);
    }
    if let Some(url) = card.dataset.as_ref().and_then(|d| d.url.as_deref()) {
        cx.url(&["dataset", "url"], url);
    }
    card.dimensions = cx.dimension_keys(t, "dimensions", &card.dimensions);
    for (id, dim) in &card.dimensions {
        let base = ["dimensions", id.as_str()];
        let needs_value = specified_value(dim.status);
        match (&dim.value, needs_value) {
            (None, true) => {
                let d =
                    cx.error(&[&base[..], &["status"]].concat(), format!("`{id}` has status `{}` but no value", status_name(dim.status)));
                d.expected = Some("a `value:`, or `status: not_specified`".into());
            }
            (Some(_), false) => {
                cx.warning(
                    &[&base[..], &["value"]].concat(),
                    format!("`{id}` has a value but status `{}`; the value is ignored", status_name(dim.status)),
                );
            }
            (Some(v), true) => cx.dimension_value(t, id, v, "dimensions"),
            (None, false) => {}
        }
        if dim.status == CardStatus::Stated && dim.evidence.is_empty() {
            let d = cx.warning(&[&base[..], &["status"]].concat(), format!("`{id}` is stated without evidence"));
            d.suggestion = Some("add `evidence:` with the source, where in it, and a quote".into());
        }
        cx.evidence(&[&base[..], &["evidence"]].concat(), &dim.evidence);
    }
    for rule in &t.consistency {
        let stated = |id: &str| {
            card.dimensions.get(id).filter(|d| specified_value(d.status)).and_then(|d| d.value.as_ref()).map(Value::ids).unwrap_or_default()
        };
        let (when, expects) = (stated(&rule.when.dimension), stated(&rule.expects.dimension));
        let hit = |ids: &[&str], values: &[String]| ids.iter().any(|i| values.iter().any(|v| v == i));
        if hit(&when, &rule.when.values) && !expects.is_empty() && !hit(&expects, &rule.expects.values) {
            let d = cx.warning(
                &["dimensions", rule.when.dimension.as_str(), "value"],
                format!(
                    "`{}: {}` with `{}: {}`: {}",
                    rule.when.dimension,
                    when.join(", "),
                    rule.expects.dimension,
                    expects.join(", "),
                    rule.message
                ),
            );
            d.suggestion = Some(rule.suggestion.clone());
        }
    }
    for (id, flag) in &card.flags {
        let base = ["flags", id.as_str()];
        let Some(def) = t.flag(id) else {
            let (msg, suggestion) = if t.dimension(id).is_some() {
                (format!("`{id}` is a dimension, not a quality flag"), Some("move it under `dimensions:`".to_string()))
            } else {
                (
                    format!("unknown quality flag `{id}`"),
                    nearest(id, t.flags.iter().map(|f| f.id.as_str())).map(|s| format!("did you mean `{s}`?")),
                )
            };
            cx.key_error(&base, msg).suggestion = suggestion;
            continue;
        };
        let vpath = [&base[..], &["value"]].concat();
        match &flag.value {
            Some(Value::One(v)) => {
                if let Err(e) = t.check_flag_value(def, v) {
                    cx.invalid(&vpath, e);
                }
            }
            Some(Value::Set(vs)) if def.set => {
                for (i, v) in vs.iter().enumerate() {
                    if let Err(e) = t.check_flag_value(def, v) {
                        cx.invalid(&[&vpath[..], &[i.to_string().as_str()]].concat(), e);
                    }
                }
            }
            Some(_) => {
                cx.error(&vpath, format!("flag `{id}` takes {}", if def.set { "a value or a list of values" } else { "one value" }));
            }
            None if specified_value(flag.status) => {
                cx.error(&[&base[..], &["status"]].concat(), format!("flag `{id}` has status `{}` but no value", status_name(flag.status)));
            }
            None => {}
        }
        cx.evidence(&[&base[..], &["evidence"]].concat(), &flag.evidence);
    }
    for (i, tested) in card.tested.iter().enumerate() {
        let idx = i.to_string();
        let base = ["tested", idx.as_str()];
        if t.group(&tested.assumption).is_none() && t.dimension(&tested.assumption).is_none() {
            let ids = t.groups.iter().map(|g| g.id.as_str()).chain(t.dimensions.iter().map(|d| d.id.as_str()));
            let d = cx.error(&[&base[..], &["assumption"]].concat(), format!("unknown assumption `{}`", tested.assumption));
            d.expected = Some("a group or dimension id".into());
            d.suggestion = nearest(&tested.assumption, ids).map(|s| format!("did you mean `{s}`?"));
        }
        if let Some([lo, hi]) = tested.interval {
            if lo > hi {
                cx.error(&[&base[..], &["interval"]].concat(), format!("interval [{lo}, {hi}] has its bounds reversed")).suggestion =
                    Some(format!("write `[{hi}, {lo}]`"));
            } else if !(lo <= tested.drop && tested.drop <= hi) {
                cx.warning(
                    &[&base[..], &["interval"]].concat(),
                    format!("the drop {} lies outside its interval [{lo}, {hi}]", tested.drop),
                );
            }
        }
        if tested.n == Some(0) {
            cx.error(&[&base[..], &["n"]].concat(), "n must be at least 1");
        }
        cx.evidence(&[&base[..], &["evidence"]].concat(), &tested.evidence);
    }
    cx.diags
}

/// Validates a deployment profile; renames alias keys and orders dimensions as the taxonomy.
pub fn validate_profile(profile: &mut Profile, root: &Node, t: &Taxonomy) -> Diagnostics {
    let mut cx = Ctx { root, diags: Diagnostics::default() };
    cx.version(profile.version);
    cx.slug(&profile.id);
    if let Some(date) = &profile.as_of
        && parse_date(date).is_none()
    {
        cx.error(&["as_of"], format!("`{date}` is not a date")).expected = Some("`YYYY-MM-DD`".into());
    }
    profile.dimensions = cx.dimension_keys(t, "dimensions", &profile.dimensions);
    for (id, dim) in &profile.dimensions {
        let base = ["dimensions", id.as_str()];
        let needs_value = matches!(dim.status, ProfileStatus::Declared | ProfileStatus::Measured);
        match (&dim.value, needs_value) {
            (None, true) => {
                let d =
                    cx.error(&[&base[..], &["status"]].concat(), format!("`{id}` is {} but has no value", profile_status_name(dim.status)));
                d.expected = Some("a `value:`, or `status: not_specified`".into());
            }
            (Some(_), false) => {
                cx.warning(
                    &[&base[..], &["value"]].concat(),
                    format!("`{id}` has a value but status `{}`; the value is ignored", profile_status_name(dim.status)),
                );
            }
            (Some(v), true) => cx.dimension_value(t, id, v, "dimensions"),
            (None, false) => {}
        }
        cx.evidence(&[&base[..], &["evidence"]].concat(), &dim.evidence);
    }
    for (id, setting) in &profile.groups {
        if t.group(id).is_none() {
            let d = cx.key_error(&["groups", id], format!("unknown group `{id}`"));
            d.expected = Some("a group id from `benchcards taxonomy`".into());
            d.suggestion = nearest(id, t.groups.iter().map(|g| g.id.as_str())).map(|s| format!("did you mean `{s}`?"));
        }
        if let Some(tol) = setting.tolerance
            && (!(0.0..=100.0).contains(&tol) || tol.is_nan())
        {
            cx.error(&["groups", id, "tolerance"], format!("tolerance {tol} is outside 0–100")).expected =
                Some("a drop in percentage points, e.g. `5`".into());
        }
    }
    if !profile.case_mix.is_empty() {
        let shares: Vec<(String, f64)> = profile.case_mix.iter().map(|(k, v)| (k.clone(), *v)).collect();
        cx.shares(&["case_mix"], &shares, t.share_sum_tolerance);
    }
    let personas = crate::personas::catalogue();
    for (axis, mix) in &profile.persona_mix {
        let Some(a) = personas.axes.iter().find(|a| &a.id == axis) else {
            let d = cx.error(&["persona_mix", axis], format!("no persona axis `{axis}`"));
            d.expected = Some(format!("one of {}", personas.axes.iter().map(|a| a.id.as_str()).collect::<Vec<_>>().join(", ")));
            continue;
        };
        for value in mix.keys().filter(|v| !a.values.iter().any(|x| &x.id == *v)) {
            cx.error(&["persona_mix", axis, value], format!("`{value}` is no value of the persona axis `{axis}`")).expected =
                Some(format!("one of {}", a.values.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")));
        }
        let shares: Vec<(String, f64)> = mix.iter().map(|(k, v)| (k.clone(), *v)).collect();
        cx.shares(&["persona_mix", axis], &shares, t.share_sum_tolerance);
    }
    for (i, o) in profile.overrides.iter().enumerate() {
        let idx = i.to_string();
        if t.dimension(&o.dimension).is_none() {
            let d = cx.error(&["overrides", &idx, "dimension"], format!("unknown dimension `{}`", o.dimension));
            d.suggestion = nearest(&o.dimension, t.dimensions.iter().map(|d| d.id.as_str())).map(|s| format!("did you mean `{s}`?"));
        }
        if o.justification.trim().is_empty() {
            cx.error(&["overrides", &idx, "justification"], "an override needs a justification").expected =
                Some("why the computed verdict is wrong here".into());
        }
    }
    cx.diags
}

/// Validates a plan. `base` is the plan's folder, against which referenced files are checked.
pub fn validate_plan(plan: &Plan, root: &Node, t: &Taxonomy, base: Option<&Path>) -> Diagnostics {
    let mut cx = Ctx { root, diags: Diagnostics::default() };
    cx.version(plan.version);
    cx.slug(&plan.id);
    if let Some(base) = base {
        for (key, rel) in [("card", &plan.card), ("deployment", &plan.deployment), ("dataset", &plan.dataset)] {
            if !base.join(rel).is_file() && crate::bundled::stands_for(Path::new(rel)).is_none() {
                let d = cx.warning(
                    &[key],
                    format!("file `{rel}` not found (paths are relative to the plan's folder, {}); `run` needs it", base.display()),
                );
                d.suggestion = Some(format!("write the path of the {key} file"));
            }
        }
        if let Some(h) = &plan.human_study
            && !base.join(&h.path).is_file()
        {
            cx.error(&["human_study", "path"], format!("file `{}` not found (relative to the plan's folder)", h.path));
        }
    }
    if plan.models.is_empty() {
        cx.error(&["models"], "a plan needs at least one model").expected =
            Some("`models: [{id: ..., provider: openai|local|mock}]`".into());
    }
    let model_ids: Vec<&str> = plan.models.iter().map(|m| m.id.as_str()).collect();
    cx.duplicates(&["models"], &model_ids);
    let helpers: Vec<&str> = plan
        .graders
        .iter()
        .flat_map(|g| g.panel())
        .chain(plan.patient_model.as_deref())
        .chain(plan.fidelity.as_ref().map(|f| f.judge_model.as_str()))
        .collect();
    if !plan.models.is_empty() && !plan.models.iter().any(|m| m.under_test) {
        cx.error(&["models"], "every model has `under_test: false`, so no model answers the items").suggestion =
            Some("remove `under_test: false` from the model to evaluate".into());
    }
    for (i, m) in plan.models.iter().enumerate() {
        let idx = i.to_string();
        let base = ["models", idx.as_str()];
        if !m.under_test && !helpers.contains(&m.id.as_str()) {
            cx.warning(
                &[&base[..], &["under_test"]].concat(),
                format!("model `{}` answers no item and neither judges nor plays the patient", m.id),
            )
            .suggestion = Some("name it as a grader's `judge_model`/`judges` or as `patient_model`, or remove it".into());
        }
        match m.provider {
            Provider::Openai => {
                if m.model.is_none() {
                    cx.error(
                        &[&base[..], &["provider"]].concat(),
                        format!("model `{}` needs `model:` (the name the endpoint serves)", m.id),
                    );
                }
                if m.base_urls.is_empty() {
                    let d = cx.error(&[&base[..], &["provider"]].concat(), format!("model `{}` needs `base_urls:`", m.id));
                    d.expected = Some("e.g. `base_urls: [\"http://127.0.0.1:8000/v1\"]`".into());
                }
                for (j, url) in m.base_urls.iter().enumerate() {
                    cx.url(&[&base[..], &["base_urls", j.to_string().as_str()]].concat(), url);
                }
            }
            Provider::Local | Provider::Mock => {
                if !m.base_urls.is_empty() {
                    cx.warning(&[&base[..], &["base_urls"]].concat(), "base URLs are ignored for the local and mock providers");
                }
            }
        }
        if let Some(var) = &m.api_key_env {
            let path = [&base[..], &["api_key_env"]].concat();
            if looks_like_secret(var) {
                let d = cx.error(&path, "this looks like an API key, not the name of an environment variable");
                d.expected = Some("the variable's name, e.g. `OPENAI_API_KEY`".into());
                d.suggestion =
                    Some("remove the key from this file, export it as an environment variable, and name the variable here".into());
                d.conceal = true;
            } else if !(var.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && var.chars().next().is_some_and(|c| !c.is_ascii_digit()))
            {
                cx.error(&path, format!("`{var}` is not an environment variable name")).expected =
                    Some("capital letters, digits and underscores".into());
            }
        }
        if let Some(temp) = m.sampling.temperature
            && !(0.0..=2.0).contains(&temp)
        {
            cx.error(&[&base[..], &["sampling", "temperature"]].concat(), format!("temperature {temp} is outside 0–2"));
        }
    }
    if plan.conditions.is_empty() {
        cx.error(&["conditions"], "a plan needs at least one condition").expected = Some("e.g. `conditions: [{id: vignette}]`".into());
    }
    let labels: Vec<String> = plan.conditions.iter().map(ConditionSpec::name).collect();
    cx.duplicates(&["conditions"], &labels.iter().map(String::as_str).collect::<Vec<_>>());
    for (i, c) in plan.conditions.iter().enumerate() {
        let idx = i.to_string();
        let base = ["conditions", idx.as_str()];
        let Some(def) = t.condition(&c.id) else {
            let d = cx.error(&[&base[..], &["id"]].concat(), format!("unknown condition `{}`", c.id));
            d.expected = Some(format!("one of {}", t.conditions.iter().map(|c| format!("`{}`", c.id)).collect::<Vec<_>>().join(", ")));
            d.suggestion = nearest(&c.id, t.conditions.iter().map(|c| c.id.as_str())).map(|s| format!("did you mean `{s}`?"));
            continue;
        };
        let multi = def.interaction == "multi_turn";
        let personas = crate::personas::catalogue();
        match (&c.persona, &c.personas) {
            (Some(_), Some(_)) => {
                _ = cx.error(&[&base[..], &["personas"]].concat(), "a condition names one `persona` or a `personas` design, not both")
            }
            (Some(name), None) => {
                if let Err(e) = personas.named(name, &plan.personas) {
                    cx.error(&[&base[..], &["persona"]].concat(), e);
                }
            }
            (None, Some(design)) => {
                if let Err(e) = personas.design(design, &plan.personas) {
                    cx.error(&[&base[..], &["personas"]].concat(), e);
                }
            }
            (None, None) => {}
        }
        if !simulates_patient(&c.id) {
            for field in
                ["persona", "personas"].into_iter().filter(|f| if *f == "persona" { c.persona.is_some() } else { c.personas.is_some() })
            {
                cx.warning(
                    &[&base[..], &[field]].concat(),
                    format!("`{field}` applies only to conversations with a simulated patient; ignored for `{}`", c.id),
                );
            }
        }
        if !multi {
            for (field, set) in [("turn_limit", c.turn_limit.is_some()), ("patient", c.patient.is_some()), ("scoring", c.scoring.is_some())]
            {
                if set {
                    cx.warning(
                        &[&base[..], &[field]].concat(),
                        format!("`{field}` applies only to conversation conditions; ignored for `{}`", c.id),
                    );
                }
            }
        }
        if c.turn_limit == Some(0) {
            cx.error(&[&base[..], &["turn_limit"]].concat(), "turn_limit must be at least 1");
        }
        if c.has("framed") && c.system_prompt.is_none() {
            cx.error(&[&base[..], &["id"]].concat(), "`framed` needs the deployment's `system_prompt`");
        }
        for (j, part) in c.with.iter().enumerate() {
            let jdx = j.to_string();
            let path = [&base[..], &["with", jdx.as_str()]].concat();
            match crate::model::COMPOSABLE.iter().find(|(p, _)| p == part) {
                None => {
                    let d = cx.error(&path, format!("`{part}` cannot be applied on top of another condition"));
                    d.expected = Some(format!(
                        "one of {}",
                        crate::model::COMPOSABLE.iter().map(|(p, _)| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                    ));
                    d.suggestion = nearest(part, crate::model::COMPOSABLE.iter().map(|(p, _)| *p)).map(|s| format!("did you mean `{s}`?"));
                }
                Some(_) if part == &c.id || c.with[..j].contains(part) => {
                    cx.error(&path, format!("`{part}` is applied twice"));
                }
                Some((_, bases)) if !bases.contains(&c.id.as_str()) => {
                    cx.error(&path, format!("`{part}` does not compose with `{}`", c.id)).expected =
                        Some(format!("a base condition among {}", bases.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")));
                }
                Some(_) => {}
            }
        }
    }
    if plan.graders.is_empty() {
        cx.error(&["graders"], "a plan needs at least one grader").expected =
            Some("e.g. `graders: [{kind: conditions, mode: bean}]`".into());
    }
    for (i, g) in plan.graders.iter().enumerate() {
        let idx = i.to_string();
        let base = ["graders", idx.as_str()];
        if g.threshold.is_some_and(|th| th > 100) {
            cx.error(&[&base[..], &["threshold"]].concat(), "threshold must be between 0 and 100");
        }
        if g.mode.is_some() && g.kind != GraderKind::Conditions {
            cx.warning(&[&base[..], &["mode"]].concat(), "`mode` applies only to the `conditions` grader");
        }
        if g.kind == GraderKind::Judge {
            if g.rubric.as_deref().is_none_or(|r| r.trim().is_empty()) {
                cx.error(&[&base[..], &["kind"]].concat(), "the judge grader needs a `rubric`");
            }
            match &g.judge_model {
                None => {
                    cx.error(&[&base[..], &["kind"]].concat(), "the judge grader needs `judge_model` (a model id from `models`)");
                }
                Some(j) if !model_ids.contains(&j.as_str()) => {
                    let d = cx.error(&[&base[..], &["judge_model"]].concat(), format!("`{j}` is not a model of this plan"));
                    d.suggestion = nearest(j, model_ids.iter().copied()).map(|s| format!("did you mean `{s}`?"));
                }
                Some(_) => {}
            }
        }
        if g.kind == GraderKind::Rubric {
            let panel = g.panel();
            if panel.is_empty() {
                cx.error(
                    &[&base[..], &["kind"]].concat(),
                    "the rubric grader needs `judge_model` or a panel `judges` (model ids from `models`)",
                )
                .expected = Some("e.g. `{kind: rubric, judges: [judge-a, judge-b, judge-c], combine: majority}`".into());
            }
            for (j, id) in g
                .judge_model
                .iter()
                .map(|m| (vec!["judge_model".to_string()], m))
                .chain(g.judges.iter().enumerate().map(|(k, m)| (vec!["judges".to_string(), k.to_string()], m)))
            {
                if !model_ids.contains(&id.as_str()) {
                    let path: Vec<&str> = base.iter().copied().chain(j.iter().map(String::as_str)).collect();
                    let d = cx.error(&path, format!("`{id}` is not a model of this plan"));
                    d.suggestion = nearest(id, model_ids.iter().copied()).map(|s| format!("did you mean `{s}`?"));
                }
            }
            if panel.len() % 2 == 0 && panel.len() > 1 && g.combine != Some(Combine::Mean) {
                cx.warning(
                    &[&base[..], &["judges"]].concat(),
                    format!("a majority of {} judges can tie, and a tie counts as not met", panel.len()),
                )
                .suggestion = Some("use an odd number of judges, or `combine: mean`".into());
            }
        } else if !g.judges.is_empty() || g.combine.is_some() {
            cx.warning(&[&base[..], &["judges"]].concat(), "`judges` and `combine` apply only to the `rubric` grader");
        }
    }
    if plan.epochs == 0 {
        cx.error(&["epochs"], "epochs must be at least 1");
    }
    for (i, p) in plan.personas.iter().enumerate() {
        if let Err(e) = crate::personas::catalogue().persona(&p.values, Some(&p.id)) {
            cx.error(&["personas", &i.to_string(), "values"], e);
        }
    }
    if let Some(f) = &plan.fidelity
        && !model_ids.contains(&f.judge_model.as_str())
    {
        let d = cx.error(&["fidelity", "judge_model"], format!("`{}` is not a model of this plan", f.judge_model));
        d.suggestion = nearest(&f.judge_model, model_ids.iter().copied()).map(|s| format!("did you mean `{s}`?"));
    }
    if let Some(pm) = &plan.patient_model
        && !model_ids.contains(&pm.as_str())
    {
        let d = cx.error(&["patient_model"], format!("`{pm}` is not a model of this plan"));
        d.suggestion = nearest(pm, model_ids.iter().copied()).map(|s| format!("did you mean `{s}`?"));
    }
    for (i, study) in plan.studies.iter().enumerate() {
        let idx = i.to_string();
        if t.group(&study.group).is_none() {
            cx.error(&["studies", &idx, "group"], format!("unknown group `{}`", study.group)).suggestion =
                nearest(&study.group, t.groups.iter().map(|g| g.id.as_str())).map(|s| format!("did you mean `{s}`?"));
        }
        if !t.study_designs.iter().any(|d| d.id == study.design) {
            let d = cx.error(&["studies", &idx, "design"], format!("unknown study design `{}`", study.design));
            d.expected = Some(format!("one of {}", t.study_designs.iter().map(|d| format!("`{}`", d.id)).collect::<Vec<_>>().join(", ")));
            d.suggestion = nearest(&study.design, t.study_designs.iter().map(|d| d.id.as_str())).map(|s| format!("did you mean `{s}`?"));
        }
    }
    for (i, q) in plan.questions.iter().enumerate() {
        if t.dimension(&q.dimension).is_none() {
            cx.error(&["questions", &i.to_string(), "dimension"], format!("unknown dimension `{}`", q.dimension));
        }
    }
    if let Some(study) = &plan.study {
        validate_study(&mut cx, study, &model_ids, plan.human_study.as_ref());
    }
    cx.diags
}

/// The study section: arms that name the plan's models, at most one control arm (with its
/// instructions), checks with a right answer among their options, and limits a public page can
/// hold to.
fn validate_study(cx: &mut Ctx, s: &StudyDesign, model_ids: &[&str], human: Option<&HumanStudy>) {
    if s.arms.len() < 2 {
        cx.error(&["study", "arms"], "a study needs at least two arms").expected =
            Some("an arm with a model and a control arm: `[{id: with_model, model: ID}, {id: control, instructions: ...}]`".into());
    }
    let ids: Vec<&str> = s.arms.iter().map(|a| a.id.as_str()).collect();
    cx.duplicates(&["study", "arms"], &ids);
    let controls: Vec<&StudyArm> = s.arms.iter().filter(|a| a.model.is_none()).collect();
    for (i, arm) in s.arms.iter().enumerate() {
        let idx = i.to_string();
        let base = ["study", "arms", idx.as_str()];
        if arm.id.is_empty() || !arm.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
            cx.error(&[&base[..], &["id"]].concat(), format!("arm id `{}` is not a plain name", arm.id)).expected =
                Some("lowercase letters, digits, `_` and `-` (it becomes the result label `human_study:ID`)".into());
        }
        match &arm.model {
            Some(m) if !model_ids.contains(&m.as_str()) => {
                let d = cx.error(&[&base[..], &["model"]].concat(), format!("`{m}` is not a model of this plan"));
                d.suggestion = nearest(m, model_ids.iter().copied()).map(|s| format!("did you mean `{s}`?"));
            }
            Some(_) => {}
            None => {
                if arm.instructions.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    let d = cx.error(&[&base[..], &["id"]].concat(), format!("the control arm `{}` needs `instructions`", arm.id));
                    d.expected =
                        Some("what participants without the model are asked to do, e.g. \"use whatever you would normally use\"".into());
                }
                if arm.system_prompt.is_some() {
                    cx.warning(&[&base[..], &["system_prompt"]].concat(), "a control arm has no model: its system prompt is ignored");
                }
            }
        }
    }
    if controls.len() > 1 {
        let idx = s.arms.iter().rposition(|a| a.model.is_none()).unwrap_or_default().to_string();
        cx.error(&["study", "arms", idx.as_str(), "id"], "more than one arm has no model").suggestion =
            Some("name a model for every arm but the control".into());
    }
    if let (Some(h), Some(control)) = (human.and_then(|h| h.control_arm.as_deref()), controls.first())
        && h != control.id
    {
        cx.warning(&["human_study", "control_arm"], format!("the study's control arm is `{}`, not `{h}`", control.id)).suggestion =
            Some(format!("write `control_arm: {}`", control.id));
    }
    let scenarios: Vec<&str> = s.scenarios.iter().map(String::as_str).collect();
    cx.duplicates(&["study", "scenarios"], &scenarios);
    let mut positive = |path: &[&str], value: u64, what: &str| {
        if value == 0 {
            cx.error(path, format!("{what} must be at least 1"));
        }
    };
    positive(&["study", "scenarios_per_participant"], s.scenarios_per_participant.into(), "scenarios_per_participant");
    positive(&["study", "time_limit_minutes"], s.time_limit_minutes.into(), "time_limit_minutes");
    positive(&["study", "target_participants"], s.target_participants.into(), "target_participants");
    positive(&["study", "limits", "messages_per_scenario"], s.limits.messages_per_scenario.into(), "messages_per_scenario");
    positive(&["study", "limits", "message_chars"], s.limits.message_chars.into(), "message_chars");
    positive(&["study", "limits", "requests_per_minute"], s.limits.requests_per_minute.into(), "requests_per_minute");
    if !scenarios.is_empty() && s.scenarios_per_participant as usize > scenarios.len() {
        cx.error(
            &["study", "scenarios_per_participant"],
            format!("{} scenarios per participant, but the study lists {}", s.scenarios_per_participant, scenarios.len()),
        );
    }
    if s.allocation.block_size > 0 && !s.arms.is_empty() && !(s.allocation.block_size as usize).is_multiple_of(s.arms.len()) {
        let d = cx.error(
            &["study", "allocation", "block_size"],
            format!("a block of {} cannot hold {} arms equally", s.allocation.block_size, s.arms.len()),
        );
        d.expected = Some(format!("a multiple of {}", s.arms.len()));
    }
    if !(1..=3).contains(&s.questions.conditions) {
        cx.error(&["study", "questions", "conditions"], "participants name between 1 and 3 conditions").expected = Some("1, 2 or 3".into());
    }
    for (key, text) in [("consent", &s.consent), ("instructions", &s.instructions)] {
        if text.trim().is_empty() {
            cx.error(&["study", key], format!("the study's `{key}` is empty"));
        }
    }
    for (section, checks) in [("comprehension", &s.comprehension), ("attention", &s.attention)] {
        for (i, c) in checks.iter().enumerate() {
            let idx = i.to_string();
            if c.options.len() < 2 {
                cx.error(&["study", section, idx.as_str(), "options"], "a check needs at least two options");
            } else if c.answer >= c.options.len() {
                cx.error(&["study", section, idx.as_str(), "answer"], format!("answer {} is not an option", c.answer)).expected =
                    Some(format!("the right option's position, from 0 to {}", c.options.len() - 1));
            }
        }
    }
    if s.completion.code.trim().is_empty() {
        cx.error(&["study", "completion", "code"], "the completion code is empty");
    }
    for (i, name) in s.recruitment_ids.iter().enumerate() {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            cx.error(&["study", "recruitment_ids", &i.to_string()], format!("`{name}` is not a query parameter name")).expected =
                Some("letters, digits and `_`, e.g. `PROLIFIC_PID`".into());
        }
    }
    if let Some(url) = &s.completion.redirect {
        cx.url(&["study", "completion", "redirect"], url);
        for name in url.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(n, _)| n)) {
            if name != "code" && !s.recruitment_ids.iter().any(|r| r == name) {
                let d = cx.error(&["study", "completion", "redirect"], format!("`{{{name}}}` names no recruitment id"));
                d.expected = Some("`{code}` or a name listed under `recruitment_ids`".into());
            }
        }
    }
}

/// API keys have recognisable shapes; a variable name never contains lowercase letters or dashes.
fn looks_like_secret(s: &str) -> bool {
    let prefixes = ["sk-", "sk_", "pk-", "hf_", "gsk_", "xai-", "AIza", "Bearer "];
    prefixes.iter().any(|p| s.starts_with(p))
        || (s.len() >= 32 && s.chars().any(|c| c.is_ascii_lowercase()) && s.chars().any(|c| c.is_ascii_digit()))
}

/// Whether a card's status carries a value (stated, inferred or measured).
fn specified_value(s: CardStatus) -> bool {
    matches!(s, CardStatus::Stated | CardStatus::Inferred | CardStatus::Measured)
}

pub fn status_name(s: CardStatus) -> &'static str {
    match s {
        CardStatus::Stated => "stated",
        CardStatus::Inferred => "inferred",
        CardStatus::Measured => "measured",
        CardStatus::NotSpecified => "not_specified",
        CardStatus::NotApplicable => "not_applicable",
    }
}

pub fn profile_status_name(s: ProfileStatus) -> &'static str {
    match s {
        ProfileStatus::Declared => "declared",
        ProfileStatus::Measured => "measured",
        ProfileStatus::NotSpecified => "not_specified",
        ProfileStatus::NotApplicable => "not_applicable",
    }
}
