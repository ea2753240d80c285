//! A decomposition for people: text, Markdown (the same tables), and the waterfall chart as
//! SVG with intervals, the reference line, proxies and confounded steps marked. Also the other
//! statistics as tables: scores by grader, two runs compared, a power analysis, and a
//! behavioural study's rates with its calibration.

use crate::{Report, Table, escape_html};
use benchcards_stats::decompose::{Decomposition, Figure, Sensitivity, Step, StepKind};
use benchcards_stats::paired::PairedRow;
use benchcards_stats::proportion::TableTest;
use benchcards_stats::study::{Calibration, PowerAnalysis, PowerDesign, StudyAnalysis, Uptake};

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Points to one decimal; a value that rounds to zero prints as 0.0, never −0.0.
fn pts(x: f64) -> String {
    format!("{:.1}", (x * 1000.0).round() / 10.0 + 0.0)
}

/// A step's drop as the chart labels it: a fall in score as −, a rise as +.
fn drop_label(contribution: f64) -> String {
    let v = (contribution * 1000.0).round() / 10.0;
    if v > 0.0 {
        format!("−{v:.1} pts")
    } else if v < 0.0 {
        format!("+{:.1} pts", -v)
    } else {
        "0.0 pts".into()
    }
}

fn ci_pct(ci: [f64; 2]) -> String {
    format!("{} to {}", pct(ci[0]), pct(ci[1]))
}

fn ci_pts(ci: [f64; 2]) -> String {
    format!("{} to {}", pts(ci[0]), pts(ci[1]))
}

fn figure(f: &Option<Figure>, missing: &str) -> String {
    match f {
        Some(f) => format!("{} points (95% CI {}; {})", pts(f.estimate), ci_pts(f.ci), f.method),
        None => missing.to_string(),
    }
}

/// Every table of a decomposition, in reading order: (heading, table).
pub fn tables(d: &Decomposition, uptake: Option<&Uptake>) -> Vec<(String, Table)> {
    let conf = format!("{:.0}% CI", d.estimand.confidence * 100.0);
    let mut out = Vec::new();
    let mut conds = Table::new(&["Condition", "n", "Score", &conf, "Interval method", "Note"]);
    for c in &d.conditions {
        conds.row(vec![
            c.id.clone(),
            c.n.to_string(),
            pct(c.score),
            ci_pct(c.ci),
            c.method.into(),
            if c.proxy { "proxy (simulated person)".into() } else { String::new() },
        ]);
    }
    if let Some(r) = &d.reference {
        conds.row(vec![
            r.id.clone(),
            r.n.to_string(),
            pct(r.score),
            ci_pct(r.ci),
            r.method.into(),
            "reference line (counterfactual)".into(),
        ]);
    }
    out.push(("Condition scores".to_string(), conds));
    let mut steps = Table::new(&[
        "Step",
        "Assumption relaxed",
        "Kind",
        "Contribution (points)",
        &conf,
        "n",
        "Interval method",
        "Reads as",
        "What else changed",
    ]);
    for s in &d.steps {
        let kind = match s.kind {
            StepKind::Task => "task",
            StepKind::OutcomeMeasured => "outcome (measured)",
            StepKind::OutcomeProxy => "outcome (proxy)",
            StepKind::Unclassified => "unclassified",
        };
        steps.row(vec![
            format!("{} → {}", s.from, s.to),
            s.assumption.clone(),
            kind.into(),
            pts(s.contribution),
            ci_pts(s.ci),
            format!("{}{}", s.n, if s.paired { " paired" } else { "" }),
            s.method.into(),
            step_reading(s),
            match (s.confounded.is_empty(), s.unknown.is_empty()) {
                (true, true) => "nothing".into(),
                (false, true) => s.confounded.join("; "),
                (true, false) => format!("unknown: {} not stated", s.unknown.join(", ")),
                (false, false) => format!("{}; unknown: {} not stated", s.confounded.join("; "), s.unknown.join(", ")),
            },
        ]);
    }
    out.push(("Steps (sequential decomposition along the path)".to_string(), steps));
    let mut totals = Table::new(&["Quantity", "Points"]);
    totals.row(vec!["task assumptions".into(), figure(&d.subtotals.task, "none on this path")]);
    totals.row(vec![
        "outcome assumptions, measured with people".into(),
        figure(&d.subtotals.outcome_measured, "not measured (no step into real people's decisions)"),
    ]);
    totals.row(vec!["outcome assumptions, proxy (simulated people)".into(), figure(&d.subtotals.outcome_proxy, "none")]);
    totals.row(vec!["total gap".into(), figure(&Some(d.total.clone()), "")]);
    out.push(("Subtotals".to_string(), totals));
    if let Some(s) = &d.standardised {
        let mut t = Table::new(&["", "Score or contribution", &conf]);
        for (id, score, ci) in &s.conditions {
            t.row(vec![id.clone(), pct(*score), ci_pct(*ci)]);
        }
        for (from, to, c, ci) in &s.steps {
            t.row(vec![format!("{from} → {to}"), format!("{} points", pts(*c)), ci_pts(*ci)]);
        }
        t.row(vec!["total gap".into(), format!("{} points", pts(s.total.estimate)), ci_pts(s.total.ci)]);
        out.push((format!("Standardised figures ({} stratum weights)", s.weights), t));
    }
    if d.steps.iter().any(|s| s.heterogeneity.is_some()) {
        out.push((
            "Across strata: these scenarios, and scenarios like these (random effects, DerSimonian–Laird)".to_string(),
            heterogeneity_table(d),
        ));
    }
    if let Some(sens) = &d.sensitivity {
        out.push(("Sensitivity (point estimates)".to_string(), sensitivity_table(d, sens)));
    }
    if let Some(sh) = &d.shapley {
        let mut t = Table::new(&["Assumption", "Shapley contribution (points)", &conf]);
        for v in sh {
            t.row(vec![v.assumption.clone(), pts(v.value), ci_pts(v.ci)]);
        }
        out.push(("Shapley values (order-free attribution over the full factorial)".to_string(), t));
    }
    if let Some(rows) = &d.per_stratum {
        let mut cols: Vec<String> = vec!["Stratum".into()];
        cols.extend(d.conditions.iter().map(|c| format!("{} (n; score; CI)", c.id)));
        cols.extend(d.steps.iter().map(|s| format!("{} → {} (points; CI)", s.from, s.to)));
        let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
        let mut t = Table::new(&col_refs);
        for r in rows {
            let mut row = vec![r.stratum.clone()];
            let few = || "— (n < 2)".to_string();
            row.extend(r.conditions.iter().map(|(n, s, ci)| format!("{n}; {}; {}", pct(*s), ci.map_or_else(few, ci_pct))));
            row.extend(r.steps.iter().map(|(c, ci)| format!("{}; {}", pts(*c), ci.map_or_else(few, ci_pts))));
            t.row(row);
        }
        let method = if d.estimand.intervals.starts_with("analytic") { "Wilson / Newcombe" } else { "stratified bootstrap percentile" };
        out.push((
            format!(
                "Per stratum (negative contributions shown as they are; intervals: {method}, none below 2 units or where resamples never vary)"
            ),
            t,
        ));
    }
    if let Some(u) = uptake {
        let mut t = Table::new(&["", "Person right", "Person wrong", "P(person right)", &conf, "n"]);
        let r = &u.person_right_given_model_right;
        t.row(vec!["Model right".into(), u.table[0].to_string(), u.table[1].to_string(), pct(r.p), ci_pct(r.ci), format!("{}", r.n)]);
        let w = &u.person_right_given_model_wrong;
        t.row(vec!["Model wrong".into(), u.table[2].to_string(), u.table[3].to_string(), pct(w.p), ci_pct(w.ci), format!("{}", w.n)]);
        out.push((
            format!("Uptake (paired on {} units; McNemar exact p {}, mid-p {})", u.n, p_value(u.mcnemar.exact_p), p_value(u.mcnemar.mid_p)),
            t,
        ));
    }
    out
}

/// What a step may be called: the effect of relaxing its assumption only when nothing else
/// changed between the two conditions (same units, model and grader, all stated); otherwise a
/// drop between the conditions.
fn step_reading(s: &Step) -> String {
    match (s.confounded.is_empty(), s.unknown.is_empty(), s.paired) {
        (true, true, true) => format!("the effect of relaxing {}", s.assumption),
        (true, true, false) => "a drop between conditions scored on different units".into(),
        (false, _, _) => "a drop between conditions that differ in more than the assumption".into(),
        (true, false, _) => "a drop between conditions (whether anything else changed is not stated)".into(),
    }
}

/// Per step: I², τ, Q, the mean over strata like these and the prediction interval, and the
/// sentence a clinician can read.
fn heterogeneity_table(d: &Decomposition) -> Table {
    let mut t = Table::new(&[
        "Step",
        "On these strata (points; CI)",
        "Strata",
        "I²",
        "τ (points)",
        "Q (p)",
        "Strata like these: mean (points; CI)",
        "95% prediction interval (points)",
        "In words",
    ]);
    for s in &d.steps {
        let Some(h) = &s.heterogeneity else { continue };
        let words = match h.prediction {
            Some(pi) => format!(
                "On these {} strata the step is {} points; across strata it varies (I² {:.0}%), so in a new one like these it could be anywhere from {} to {} points.",
                h.strata,
                pts(s.contribution),
                h.i2 * 100.0,
                pts(pi[0]),
                pts(pi[1])
            ),
            None => "Two strata: too few to predict a new one.".to_string(),
        };
        t.row(vec![
            format!("{} → {}", s.from, s.to),
            format!("{}; {}", pts(s.contribution), ci_pts(s.ci)),
            h.strata.to_string(),
            format!("{:.0}%", h.i2 * 100.0),
            pts(h.tau),
            format!("{:.1} ({})", h.q, p_value(h.q_p)),
            format!("{}; {}", pts(h.mean), ci_pts(h.mean_ci)),
            h.prediction.map_or_else(|| "— (fewer than 3 strata)".to_string(), ci_pts),
            words,
        ]);
    }
    t
}

/// Leave one stratum out, other graders and other path orders, each as a range of points.
fn sensitivity_table(d: &Decomposition, sens: &Sensitivity) -> Table {
    let mut t = Table::new(&["Step or assumption", "Contribution (points)", "Varies with", "Range (points)"]);
    for (i, s) in d.steps.iter().enumerate() {
        let step = format!("{} → {}", s.from, s.to);
        if let Some(Some(l)) = sens.leave_one_stratum_out.get(i) {
            t.row(vec![
                step.clone(),
                pts(s.contribution),
                format!("one stratum left out (most: `{}`)", l.most_influential),
                ci_pts(l.range),
            ]);
        }
        for (what, v) in sens.graders.get(i).into_iter().flatten() {
            t.row(vec![step.clone(), pts(s.contribution), format!("another grader: {what}"), pts(*v)]);
        }
    }
    for (assumption, range) in sens.path_orders.iter().flatten() {
        t.row(vec![assumption.clone(), String::new(), "the order of the path (every order)".into(), ci_pts(*range)]);
    }
    t
}

pub fn text(d: &Decomposition, uptake: Option<&Uptake>) -> String {
    let mut out = format!("Estimand: {}\n\n", d.estimand.statement);
    for (title, t) in tables(d, uptake) {
        out.push_str(&t.titled(title).to_text());
        out.push('\n');
    }
    for w in &d.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

pub fn markdown(d: &Decomposition, uptake: Option<&Uptake>) -> String {
    let mut out = format!("## Gap decomposition\n\n**Estimand.** {}\n\n", d.estimand.statement);
    for (title, t) in tables(d, uptake) {
        out.push_str(&format!("### {title}\n\n{}\n", t.to_markdown()));
    }
    if !d.warnings.is_empty() {
        out.push_str("### Warnings\n\n");
        for w in &d.warnings {
            out.push_str(&format!("- {w}\n"));
        }
    }
    out
}

/// The decomposition as sections of a report: the estimand, the waterfall (linked from the
/// Markdown twin as `chart_path`), every table and the warnings.
pub fn decomposition_sections(r: &mut Report, d: &Decomposition, uptake: Option<&Uptake>, chart_path: &str) {
    r.heading(2, "Gap decomposition");
    r.paragraph(&format!("Estimand. {}", d.estimand.statement));
    r.figure(&waterfall_svg(d), chart_path, "Condition scores with their intervals, and the drop at each step");
    for (title, t) in tables(d, uptake) {
        r.heading(3, &title);
        r.table(&t);
    }
    if !d.warnings.is_empty() {
        r.heading(3, "Warnings");
        r.list(&d.warnings);
    }
}

/// The waterfall: each condition's score as a bar with its interval, each step as the drop
/// between them with its contribution and interval, the reference as a dashed line. Proxy bars
/// are hatched; confounded steps are marked. All text is escaped.
pub fn waterfall_svg(d: &Decomposition) -> String {
    let (w, h) = (880.0, 480.0);
    let (left, right, top, bottom) = (60.0, 20.0, 40.0, 110.0);
    let plot_h = h - top - bottom;
    let slots = d.conditions.len() * 2 - 1;
    let slot_w = (w - left - right) / slots as f64;
    let y = |v: f64| top + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-family=\"system-ui, sans-serif\" font-size=\"12\" role=\"img\" aria-labelledby=\"t\">\n<title id=\"t\">Gap decomposition waterfall: condition scores with {}% intervals and the drop at each step</title>\n",
        (d.estimand.confidence * 100.0).round()
    );
    s.push_str("<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#7a7a7a\" stroke-width=\"2\"/></pattern></defs>\n");
    for i in 0..=4 {
        let v = i as f64 / 4.0;
        let (x2, yy, tx, ty, label) = (w - right, y(v), left - 6.0, y(v) + 4.0, (v * 100.0) as u32);
        s.push_str(&format!("<line x1=\"{left}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e3e3e3\"/><text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}%</text>\n"));
    }
    for (i, c) in d.conditions.iter().enumerate() {
        let x = left + (2 * i) as f64 * slot_w + slot_w * 0.15;
        let bw = slot_w * 0.7;
        let fill = if c.proxy { "url(#hatch)" } else { "#3b6ea8" };
        s.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"#2b4f78\"/>\n",
            y(c.score),
            y(0.0) - y(c.score)
        ));
        let cx = x + bw / 2.0;
        s.push_str(&format!(
            "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#111\" stroke-width=\"1.5\"/>\n",
            y(c.ci[0]),
            y(c.ci[1])
        ));
        for v in c.ci {
            let (x1, x2, yy) = (cx - 6.0, cx + 6.0, y(v));
            s.push_str(&format!(
                "<line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#111\" stroke-width=\"1.5\"/>\n"
            ));
        }
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>\n",
            y(c.ci[1]) - 6.0,
            escape_html(&pct(c.score))
        ));
        s.push_str(&format!("<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n", y(0.0) + 16.0, escape_html(&c.id)));
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">n = {}{}</text>\n",
            y(0.0) + 30.0,
            c.n,
            if c.proxy { " · proxy" } else { "" }
        ));
    }
    for (i, st) in d.steps.iter().enumerate() {
        let (a, b) = (&d.conditions[i], &d.conditions[i + 1]);
        let x = left + (2 * i + 1) as f64 * slot_w + slot_w * 0.25;
        let bw = slot_w * 0.5;
        let (hi, lo) = (a.score.max(b.score), a.score.min(b.score));
        let colour = if st.contribution >= 0.0 { "#c0392b" } else { "#27ae60" };
        s.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{colour}\" opacity=\"0.8\"/>\n",
            y(hi),
            (y(lo) - y(hi)).max(1.0)
        ));
        let cx = x + bw / 2.0;
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>\n",
            y(hi) - 20.0,
            drop_label(st.contribution)
        ));
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">[{}]</text>\n",
            y(hi) - 6.0,
            escape_html(&ci_pts(st.ci))
        ));
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n",
            y(0.0) + 50.0,
            escape_html(&st.assumption)
        ));
        if !st.confounded.is_empty() {
            s.push_str(&format!(
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#b35900\">⚠ confounded</text>\n",
                y(0.0) + 64.0
            ));
        }
    }
    if let Some(r) = &d.reference {
        s.push_str(&format!(
            "<rect x=\"{left}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f0b429\" opacity=\"0.15\"/>\n",
            y(r.ci[1]),
            w - left - right,
            (y(r.ci[0]) - y(r.ci[1])).max(1.0)
        ));
        let (x2, yy) = (w - right, y(r.score));
        s.push_str(&format!("<line x1=\"{left}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#b7791f\" stroke-dasharray=\"6 4\" stroke-width=\"2\"/>\n"));
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#8a5a00\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"4\">{}</text>\n",
            w - right - 4.0,
            y(r.score) - 6.0,
            escape_html(&format!("{}: {} [{}], n = {}", r.id, pct(r.score), ci_pct(r.ci), r.n))
        ));
    }
    s.push_str(&format!(
        "<text x=\"{left}\" y=\"20\" font-weight=\"600\">{}</text>\n",
        escape_html(&format!(
            "Total gap {} points [{}] · {} weights · intervals: {}",
            pts(d.total.estimate),
            ci_pts(d.total.ci),
            d.estimand.weights,
            d.estimand.intervals
        ))
    ));
    s.push_str("</svg>\n");
    s
}

/// Each grader's condition scores, in one table.
pub fn scores_table(by_grader: &[(String, Decomposition)]) -> Table {
    let mut scores = Table::new(&["Grader", "Condition", "n", "Score", "95% CI", "Interval method"]).titled("Scores by grader");
    for (grader, d) in by_grader {
        for c in &d.conditions {
            scores.row(vec![grader.clone(), c.id.clone(), c.n.to_string(), pct(c.score), ci_pct(c.ci), c.method.to_string()]);
        }
    }
    scores
}

/// A p-value as every table shows it: four decimals, or `< 0.0001` when it rounds below that
/// (never `0.0000`, which reads as impossible).
pub fn p_value(p: f64) -> String {
    if p < 0.0001 { "< 0.0001".into() } else { format!("{p:.4}") }
}

/// Two runs compared per condition on their shared units (each unit's replicates averaged under
/// each run, as the title says after `title`): each run's score, the difference with its
/// interval, and McNemar's test where every unit's score is right/wrong.
pub fn paired_table(title: impl Into<String>, rows: &[PairedRow]) -> Table {
    let title = format!("{}; each unit's replicates (epochs) averaged under each run, then paired", title.into());
    let mut t = Table::new(&[
        "Condition",
        "Units (paired)",
        "Replicates per unit",
        "A",
        "B",
        "A − B (points)",
        "95% CI",
        "Interval method",
        "McNemar p (exact; mid-p)",
    ])
    .titled(title);
    for r in rows {
        let [lo, hi] = r.replicates;
        t.row(vec![
            r.condition.clone(),
            r.n.to_string(),
            if lo == hi { lo.to_string() } else { format!("{lo}–{hi}") },
            pct(r.score_a),
            pct(r.score_b),
            pts(r.difference),
            r.ci.map_or_else(|| "— (n < 2)".into(), ci_pts),
            r.method.into(),
            match (r.mcnemar_exact_p, r.mcnemar_mid_p) {
                (Some(e), Some(m)) => format!("{}; {}", p_value(e), p_value(m)),
                _ => "—".into(),
            },
        ]);
    }
    t
}

/// What a power analysis says besides its figures: Cohen's h (independent design), the one-sided
/// test of a non-inferiority design with its `margin`, and how the exact test's n is found.
pub fn power_details(r: &PowerAnalysis, margin: f64) -> Vec<(String, String)> {
    let mut details = Vec::new();
    if let Some(h) = r.cohens_h {
        details.push(("Cohen's h".into(), format!("{h:.6}")));
    }
    if r.design == PowerDesign::Noninferiority {
        let alpha = r.alpha;
        details
            .push(("test".into(), format!("one-sided at α = {alpha}: the new arm is not worse than the reference by more than {margin}")));
    }
    if r.exact && r.solved_for == "n" {
        details.push((
            "search".into(),
            "n is the fewest pairs whose exact power reaches the target (the power shown is the one reached); the exact power is not monotone in n".into(),
        ));
    }
    details
}

/// A count as a person reads it: whole numbers without decimals, others to two.
fn count(x: f64) -> String {
    if x.fract() == 0.0 { format!("{x}") } else { format!("{x:.2}") }
}

/// A power analysis as a table: the test, α, power and n; under a design effect, the clusters
/// (e.g. people) and observations per group as well; then `details`.
pub fn power_table(r: &PowerAnalysis, details: &[(String, String)]) -> Table {
    let mut t = Table::new(&["Quantity", "Value"]);
    t.row(vec!["test".into(), r.method.into()]);
    t.row(vec!["alpha (two-sided unless stated)".into(), format!("{}", r.alpha)]);
    t.row(vec!["power".into(), format!("{:.4}", r.power)]);
    let solved = r.solved_for == "n";
    let n = if !solved || r.n.fract() == 0.0 { count(r.n) } else { format!("{:.2} (use {})", r.n, r.n_rounded_up) };
    let clusters = if r.design == PowerDesign::Paired { "clusters (e.g. people)" } else { "clusters per group (e.g. people)" };
    match &r.clustered {
        None => t.row(vec![if solved { r.unit.to_string() } else { format!("{} (given)", r.unit) }, n]),
        Some(c) => {
            let design_effect = format!("{:.3} (clusters of {} units, ICC {})", c.design_effect, c.cluster_size, c.icc);
            if solved {
                t.row(vec![format!("{} if independent", r.unit), n]);
                t.row(vec!["design effect".into(), design_effect]);
                t.row(vec![format!("{} with the design effect (observations)", r.unit), count(c.observations)]);
                t.row(vec![clusters.into(), format!("{} of {} units each", count(c.clusters), c.cluster_size)]);
            } else {
                t.row(vec![format!("{} (given: observations)", r.unit), n]);
                t.row(vec!["design effect".into(), design_effect]);
                t.row(vec![clusters.into(), format!("{} of {} units each", count(c.clusters), c.cluster_size)]);
                t.row(vec![format!("{} the power is computed for (independent)", r.unit), count(c.effective_n)]);
            }
        }
    }
    for (k, v) in details {
        t.row(vec![k.clone(), v.clone()]);
    }
    t
}

/// A behavioural study's rates per arm (each against the control arm: the difference with its
/// interval, the test its table allows, the p-value and the Holm-adjusted one) and per arm and
/// scenario. Every rate shows its interval and its n; counts show as numbers with a fraction, as
/// in the JSON (`12.0`).
pub fn study_tables(a: &StudyAnalysis) -> [Table; 2] {
    let conf = format!("{:.0}% CI", a.confidence * 100.0);
    let right_of = |x: f64, n: f64| format!("{x:?} / {n:?}");
    let or_header = format!("OR control / arm ({conf})");
    let mut arms = Table::new(&["Arm", "Right / n", "Rate", &conf, "Arm − control (points)", &conf, "Test", "p", "Holm p", &or_header])
        .titled(format!(
            "Per arm (each against the control arm; Holm-adjusted over {} comparison{})",
            a.comparisons,
            if a.comparisons == 1 { "" } else { "s" }
        ));
    for r in &a.arms {
        let mut row = vec![r.arm.clone(), right_of(r.x, r.n), pct(r.rate), ci_pct(r.ci)];
        match &r.vs_control {
            Some(v) => row.extend([
                pts(v.difference),
                ci_pts(v.difference_ci),
                match (v.test.test, v.test.chi2) {
                    (TableTest::Chi2, Some(chi2)) => format!("χ² = {chi2:.2}"),
                    _ => format!("Fisher exact (an expected count is {:.1} < 5)", v.test.min_expected),
                },
                p_value(v.test.p),
                p_value(v.p_holm),
                format!("{:.2} ({:.2} to {:.2})", v.odds_ratio_control_over_arm, v.or_ci[0], v.or_ci[1]),
            ]),
            None => row.extend(["—".into(), "—".into(), "control".into(), "—".into(), "—".into(), "—".into()]),
        }
        arms.row(row);
    }
    let mut scenarios = Table::new(&["Arm", "Scenario", "Right / n", "Rate", &conf]).titled("Per scenario");
    for r in &a.scenarios {
        scenarios.row(vec![r.arm.clone(), r.scenario.clone(), right_of(r.x, r.n), pct(r.rate), ci_pct(r.ci)]);
    }
    [arms, scenarios]
}

/// The calibration of simulated against human rates in one line; when simulated results were
/// given but no calibration could be made, why; nothing when none were given.
pub fn calibration_line(c: Option<&Calibration>, simulated_given: bool) -> Option<String> {
    match c {
        Some(c) => Some(format!(
            "Calibration (a diagnostic, never a correction): human = {:.3} + {:.3} (SE {:.3}) × simulated across {} scenarios; Spearman ρ = {:.3}",
            c.intercept, c.slope, c.slope_se, c.scenarios, c.spearman
        )),
        None if simulated_given => Some("Calibration: fewer than 3 scenarios in common, or no spread in the simulated rates".into()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(scores: [&[u8]; 2]) -> Vec<benchcards_stats::data::ResultRow> {
        let mut rows = Vec::new();
        for (condition, scores) in ["vignette", "patient_query"].into_iter().zip(scores) {
            for (u, s) in scores.iter().enumerate() {
                rows.push(benchcards_stats::data::ResultRow {
                    unit: format!("u{u}"),
                    condition: condition.into(),
                    score: f64::from(*s),
                    ..Default::default()
                });
            }
        }
        rows
    }

    #[test]
    fn scores_by_grader_and_runs_compared() {
        use benchcards_stats::decompose::{DecomposeSpec, decompose};
        let data = benchcards_stats::data::gather(&rows([&[1, 1, 1, 0], &[1, 0, 0, 0]])).unwrap();
        let path = vec!["vignette".to_string(), "patient_query".to_string()];
        let d = decompose(&data, &DecomposeSpec::new(path, vec![Default::default(); 2], vec![])).unwrap();
        let t = scores_table(&[("g1".into(), d.clone()), ("g2".into(), d)]);
        assert_eq!(t.rows.len(), 4);
        assert_eq!((t.rows[0][0].as_str(), t.rows[0][1].as_str(), t.rows[0][3].as_str()), ("g1", "vignette", "75.0%"));
        let compared =
            benchcards_stats::paired::compare(&rows([&[1, 1, 1, 0], &[1, 1, 0, 0]]), &rows([&[1, 1, 0, 0], &[1, 1, 0, 0]]), 0.95);
        let t = paired_table("a vs b", &compared);
        let vignette = t.rows.iter().find(|r| r[0] == "vignette").unwrap();
        assert_eq!(
            (vignette[1].as_str(), vignette[2].as_str(), vignette[3].as_str(), vignette[4].as_str(), vignette[5].as_str()),
            ("4", "1", "75.0%", "50.0%", "25.0")
        );
        assert!(t.rows.iter().find(|r| r[0] == "patient_query").unwrap()[8].contains("; "), "McNemar on right/wrong scores");
        // Two epochs of one unit that disagree: one unit, two replicates, no interval from one unit.
        let epoch = |replicate: &str, score: f64| benchcards_stats::data::ResultRow {
            unit: "u0".into(),
            condition: "vignette".into(),
            score,
            replicate: Some(replicate.into()),
            ..Default::default()
        };
        let one = benchcards_stats::paired::compare(&[epoch("0", 1.0), epoch("1", 0.0)], &[epoch("0", 0.0), epoch("1", 0.0)], 0.95);
        let t = paired_table("one unit", &one);
        assert_eq!((t.rows[0][1].as_str(), t.rows[0][2].as_str(), t.rows[0][6].as_str()), ("1", "2", "— (n < 2)"));
    }

    #[test]
    fn power_tables_state_the_test_and_the_people_and_observations_of_a_design_effect() {
        use benchcards_stats::study::PowerQuery;
        let q = PowerQuery {
            p1: Some(0.8),
            p2: Some(0.8),
            margin: Some(0.1),
            alpha: 0.025,
            power: Some(0.9),
            cluster_size: Some(2.0),
            icc: Some(0.3),
            ..PowerQuery::new(PowerDesign::Noninferiority)
        };
        let r = q.analyse().unwrap();
        let details = power_details(&r, 0.1);
        assert_eq!(details.len(), 1, "no Cohen's h outside the independent design");
        assert!(details[0].1.starts_with("one-sided at α = 0.025"), "{details:?}");
        let t = power_table(&r, &details);
        assert_eq!(t.rows[0][0], "test");
        assert_eq!(t.rows[1], ["alpha (two-sided unless stated)", "0.025"]);
        let c = r.clustered.clone().unwrap();
        let rows: Vec<(&str, &str)> = t.rows.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
        assert_eq!(rows[3], ("units per group if independent", format!("{:.2} (use {})", r.n, r.n_rounded_up).as_str()));
        assert_eq!(rows[4], ("design effect", "1.300 (clusters of 2 units, ICC 0.3)"));
        assert_eq!(rows[5], ("units per group with the design effect (observations)", c.observations.to_string().as_str()));
        assert_eq!(rows[6], ("clusters per group (e.g. people)", format!("{} of 2 units each", c.clusters).as_str()));
        assert_eq!(c.observations, 2.0 * c.clusters);
        // A given n: the observations given, the people they come from, the independent units.
        let given = PowerQuery { power: None, n: Some(300.0), ..q }.analyse().unwrap();
        let t = power_table(&given, &[]);
        assert_eq!(t.rows[3], ["units per group (given: observations)", "300"]);
        assert_eq!(t.rows[5], ["clusters per group (e.g. people)", "150 of 2 units each"]);
        assert_eq!(t.rows[6], ["units per group the power is computed for (independent)", "230.77"]);
    }

    #[test]
    fn an_exact_power_says_how_its_n_was_found() {
        use benchcards_stats::study::PowerQuery;
        let q = PowerQuery { p10: Some(0.3), p01: Some(0.05), power: Some(0.8), exact: true, ..PowerQuery::new(PowerDesign::Paired) };
        let r = q.analyse().unwrap();
        let t = power_table(&r, &power_details(&r, 0.0));
        assert!(t.rows[0][1].starts_with("exact conditional McNemar test"), "{:?}", t.rows[0]);
        assert_eq!(t.rows[3], ["pairs".to_string(), r.n.to_string()], "a whole number of pairs, no decimals");
        assert!(t.rows[4][1].starts_with("n is the fewest pairs whose exact power reaches"), "{:?}", t.rows[4]);
    }

    #[test]
    fn p_values_never_print_as_zero() {
        assert_eq!(p_value(4.5e-6), "< 0.0001");
        assert_eq!(p_value(0.0), "< 0.0001");
        assert_eq!(p_value(0.0001), "0.0001");
        assert_eq!(p_value(0.05199), "0.0520");
        assert_eq!(p_value(1.0), "1.0000");
    }

    #[test]
    fn study_rates_tests_and_calibration_read_as_in_the_json() {
        let mut counts = benchcards_stats::study::StudyCounts::default();
        for (arm, right, n) in [("control", 282, 600), ("llm", 204, 600), ("small", 1, 8)] {
            for i in 0..n {
                counts.add(arm.into(), "s1".into(), i < right);
            }
        }
        let analysis = counts.analyze("control", 0.9).unwrap();
        let [arms, scenarios] = study_tables(&analysis);
        assert_eq!(arms.title.as_deref(), Some("Per arm (each against the control arm; Holm-adjusted over 2 comparisons)"));
        assert_eq!(arms.columns[3], "90% CI", "the interval's level as asked");
        let row = |arm: &str| arms.rows.iter().find(|r| r[0] == arm).unwrap().clone();
        let (control, llm, small) = (row("control"), row("llm"), row("small"));
        assert_eq!(control[6], "control");
        assert_eq!((llm[1].as_str(), llm[2].as_str(), llm[4].as_str()), ("204.0 / 600.0", "34.0%", "-13.0"));
        let v = analysis.arms.iter().find(|a| a.arm == "llm").unwrap().vs_control.clone().unwrap();
        assert_eq!(llm[5], ci_pts(v.difference_ci), "the difference's interval is shown");
        assert_eq!((llm[6].as_str(), llm[7].as_str(), llm[8].as_str()), ("χ² = 21.04", "< 0.0001", "< 0.0001"));
        assert_eq!(small[6], "Fisher exact (an expected count is 3.7 < 5)");
        assert_eq!(small[7], p_value(benchcards_stats::proportion::fisher_exact(1, 7, 282, 318)));
        assert_eq!(scenarios.rows.len(), 3);
        assert_eq!(scenarios.columns[4], "90% CI");
        assert_eq!(calibration_line(None, false), None);
        assert!(calibration_line(None, true).unwrap().starts_with("Calibration: fewer than 3"));
    }

    #[test]
    fn zero_never_prints_with_a_sign() {
        assert_eq!(pts(-0.0), "0.0");
        assert_eq!(pts(-0.0004), "0.0");
        assert_eq!(pts(-0.0006), "-0.1");
        assert_eq!(drop_label(0.0), "0.0 pts");
        assert_eq!(drop_label(-0.0), "0.0 pts");
        assert_eq!(drop_label(0.118), "−11.8 pts");
        assert_eq!(drop_label(-0.05), "+5.0 pts");
    }
}
