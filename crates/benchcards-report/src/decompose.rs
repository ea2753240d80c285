//! A decomposition for people: text, Markdown (the same tables), and the waterfall chart as
//! SVG with intervals, the reference line, proxies and confounded steps marked. Also the other
//! statistics as tables: scores by grader, two runs compared, a power analysis, and a
//! behavioural study's rates with its calibration.

use crate::{Report, Table, escape_html};
use benchcards_stats::decompose::{Decomposition, Figure, StepKind};
use benchcards_stats::paired::PairedRow;
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
    let mut steps =
        Table::new(&["Step", "Assumption relaxed", "Kind", "Contribution (points)", &conf, "n", "Interval method", "Confounded by"]);
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
            if s.confounded.is_empty() { "—".into() } else { s.confounded.join("; ") },
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
        out.push((
            "Per stratum (negative contributions shown as they are; intervals: stratified bootstrap percentile, none below 2 units)"
                .to_string(),
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
            format!("Uptake (paired on {} units; McNemar exact p = {:.4}, mid-p = {:.4})", u.n, u.mcnemar.exact_p, u.mcnemar.mid_p),
            t,
        ));
    }
    out
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

/// Two runs compared per condition on their shared units: each run's score, the difference
/// with its interval, and McNemar's test where the scores are right/wrong.
pub fn paired_table(title: impl Into<String>, rows: &[PairedRow]) -> Table {
    let mut t = Table::new(&["Condition", "n (paired)", "A", "B", "A − B (points)", "95% CI", "McNemar p (exact; mid-p)"]).titled(title);
    for r in rows {
        t.row(vec![
            r.condition.clone(),
            r.n.to_string(),
            pct(r.score_a),
            pct(r.score_b),
            format!("{:.1}", r.difference * 100.0),
            format!("{:.1} to {:.1}", r.ci[0] * 100.0, r.ci[1] * 100.0),
            match (r.mcnemar_exact_p, r.mcnemar_mid_p) {
                (Some(e), Some(m)) => format!("{e:.4}; {m:.4}"),
                _ => "—".into(),
            },
        ]);
    }
    t
}

/// What a power analysis says besides its figures: Cohen's h (independent design), and the
/// one-sided test of a non-inferiority design with its `margin`.
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
    details
}

/// A power analysis as a table: α, power, n (and with the design effect), then `details`.
pub fn power_table(r: &PowerAnalysis, details: &[(String, String)]) -> Table {
    let mut t = Table::new(&["Quantity", "Value"]);
    t.row(vec!["alpha (two-sided unless stated)".into(), format!("{}", r.alpha)]);
    t.row(vec!["power".into(), format!("{:.4}", r.power)]);
    t.row(vec![r.unit.into(), format!("{:.2} (use {})", r.n, r.n_rounded_up)]);
    if let (Some(d), Some(c)) = (r.design_effect, r.n_with_design_effect) {
        t.row(vec!["design effect".into(), format!("{d:.3}")]);
        t.row(vec![format!("{} with the design effect", r.unit), format!("{c}")]);
    }
    for (k, v) in details {
        t.row(vec![k.clone(), v.clone()]);
    }
    t
}

/// A behavioural study's rates per arm (each tested against the control arm) and per arm and
/// scenario. Counts show as numbers with a fraction, as in the JSON (`12.0`).
pub fn study_tables(a: &StudyAnalysis) -> [Table; 2] {
    let right_of = |x: f64, n: f64| format!("{x:?} / {n:?}");
    let mut arms = Table::new(&["Arm", "Right / n", "Rate", "95% CI", "χ² vs control (p)", "OR control / arm (95% CI)"]).titled("Per arm");
    for r in &a.arms {
        let (chi, or) = match &r.vs_control {
            Some(v) => (
                format!("{:.2} ({:.4})", v.chi2, v.p),
                format!("{:.2} ({:.2} to {:.2})", v.odds_ratio_control_over_arm, v.or_ci[0], v.or_ci[1]),
            ),
            None => ("control".into(), "—".into()),
        };
        arms.row(vec![r.arm.clone(), right_of(r.x, r.n), pct(r.rate), ci_pct(r.ci), chi, or]);
    }
    let mut scenarios = Table::new(&["Arm", "Scenario", "Right / n", "Rate", "95% CI"]).titled("Per scenario");
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
            (vignette[1].as_str(), vignette[2].as_str(), vignette[3].as_str(), vignette[4].as_str()),
            ("4", "75.0%", "50.0%", "25.0")
        );
        assert!(t.rows.iter().find(|r| r[0] == "patient_query").unwrap()[6].contains("; "), "McNemar on right/wrong scores");
    }

    #[test]
    fn power_tables_state_the_test_and_the_design_effect() {
        use benchcards_stats::study::{Solve, power_analysis};
        let r = power_analysis(PowerDesign::Noninferiority, [0.8, 0.8], 0.1, 0.025, Solve::N { power: 0.9 }, Some(1.3));
        let details = power_details(&r, 0.1);
        assert_eq!(details.len(), 1, "no Cohen's h outside the independent design");
        assert!(details[0].1.starts_with("one-sided at α = 0.025"), "{details:?}");
        let t = power_table(&r, &details);
        assert_eq!(t.rows[0], ["alpha (two-sided unless stated)", "0.025"]);
        assert_eq!(t.rows.len(), 6);
        assert_eq!(t.rows[4][0], "units per group with the design effect");
    }

    #[test]
    fn study_rates_and_calibration_read_as_in_the_json() {
        let mut counts = benchcards_stats::study::StudyCounts::default();
        for (arm, right) in [("llm", true), ("llm", false), ("control", true), ("control", true)] {
            counts.add(arm.into(), "s1".into(), right);
        }
        let [arms, scenarios] = study_tables(&counts.analyze("control", 0.95).unwrap());
        let llm = arms.rows.iter().find(|r| r[0] == "llm").unwrap();
        assert_eq!((llm[1].as_str(), llm[2].as_str()), ("1.0 / 2.0", "50.0%"));
        assert!(arms.rows.iter().any(|r| r[4] == "control"));
        assert_eq!(scenarios.rows.len(), 2);
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
