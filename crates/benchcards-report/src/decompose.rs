//! A decomposition for people: text, Markdown (the same tables), and the waterfall chart as
//! SVG with intervals, the reference line, proxies and confounded steps marked.

use crate::{Report, Table, escape_html};
use benchcards_stats::decompose::{Decomposition, Figure, StepKind};
use benchcards_stats::study::Uptake;

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

#[cfg(test)]
mod tests {
    use super::*;

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
