//! What the researcher keeps: the registration that freezes the design before the first
//! participant, the export that `run`, `study analyze` and `measure` read, and the dashboard.

use crate::Study;
use crate::server::LEVELS;
use crate::store::{Answer, now};
use benchcards_core::GraderMode;
use benchcards_eval::grade;
use benchcards_report::escape_html;
use std::collections::BTreeMap;

/// The frozen design: its hash, the allocation seed, the analysis and the power calculation,
/// as `study register` records them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Registration {
    pub plan_id: String,
    /// [`Study::design_hash`] when registered.
    pub design_hash: String,
    pub registered: i64,
    pub seed: u64,
    pub block_size: usize,
    pub arms: Vec<String>,
    pub control_arm: Option<String>,
    pub scenarios: Vec<String>,
    pub scenarios_per_participant: u32,
    pub target_participants: u32,
    /// How the target was sized (the plan's `study.power`).
    pub power: Option<String>,
    /// The primary outcome and how it is compared.
    pub analysis: String,
}

/// The store's mark of a pilot (`study pilot`): its participants are simulated.
pub const PILOT: &str = "pilot";

impl Study {
    /// Whether the store holds a pilot's simulated participants.
    pub async fn is_pilot(&self) -> Result<bool, String> {
        Ok(self.store.meta(PILOT).await?.is_some())
    }

    /// An arm as exported: a pilot's arms are `simulated_ARM`, so a pilot's rows can never be
    /// imported as people's.
    async fn exported_arm(&self, arm: &str) -> Result<String, String> {
        Ok(if self.is_pilot().await? { format!("simulated_{arm}") } else { arm.to_string() })
    }

    pub async fn registration(&self) -> Result<Option<Registration>, String> {
        self.store
            .meta("registration")
            .await?
            .map(|t| serde_json::from_str(&t).map_err(|e| format!("the stored registration does not read: {e}")))
            .transpose()
    }

    /// Records the design; refused once a participant exists and the plan changed since.
    pub async fn register(&self) -> Result<Registration, String> {
        let enrolled = self.store.participants().await?.len();
        if let Some(r) = self.registration().await?
            && enrolled > 0
        {
            return Err(format!(
                "the study was registered (design hash {}) and {enrolled} participant(s) have taken part: it cannot be registered again",
                r.design_hash
            ));
        }
        let control = self.design.arms.iter().find(|a| a.model.is_none()).map(|a| a.id.clone());
        let r = Registration {
            plan_id: self.plan.id.clone(),
            design_hash: self.design_hash.clone(),
            registered: now(),
            seed: self.design.allocation.seed,
            block_size: self.allocator.block_size(),
            arms: self.design.arms.iter().map(|a| a.id.clone()).collect(),
            control_arm: control.clone(),
            scenarios: self.scenarios.clone(),
            scenarios_per_participant: self.design.scenarios_per_participant,
            target_participants: self.design.target_participants,
            power: self.design.power.clone(),
            analysis: format!(
                "primary outcome: the share of a participant's scenarios in which they name a relevant condition (graded by the plan's conditions grader against the dataset's accepted conditions); secondary: the level of care (exact match with the gold disposition). Each arm is compared with {} by the difference in proportions, participants as clusters (`benchcards study analyze`), and the decomposition's step `human_study:ARM` against `human_study:{}`.",
                control.as_deref().map_or("the other arms".to_string(), |c| format!("the control arm `{c}`")),
                control.as_deref().unwrap_or("ARM")
            ),
        };
        self.store.set_meta("registration", &serde_json::to_string(&r).map_err(|e| e.to_string())?).await?;
        Ok(r)
    }

    /// Whether the server may start: refused when the plan changed after registration and a
    /// participant exists; a warning (returned) when the study was never registered.
    pub async fn may_serve(&self) -> Result<Option<String>, String> {
        match self.registration().await? {
            Some(r) if r.design_hash != self.design_hash && !self.store.participants().await?.is_empty() => Err(format!(
                "the study's design changed since it was registered (design hash {}, now {}: the study section, the arms' models, the graders or the scenarios) and participants have taken part: serve the registered design, or start a new study with another --database",
                r.design_hash, self.design_hash
            )),
            Some(_) => Ok(None),
            None => Ok(Some(
                "the study is not registered: `benchcards study register PLAN` freezes the design before the first participant".into(),
            )),
        }
    }

    /// The answer as the plan's graders read it: the conditions one per line, then the level of
    /// care.
    pub fn response_text(a: &Answer) -> String {
        let mut text = a.conditions.join("\n");
        if let Some(d) = &a.disposition {
            text.push_str(&format!("\nDisposition: {d}"));
        }
        text
    }

    /// The `human_study` CSV (`participant,item,arm,response`, then the answer's parts and times).
    pub async fn export_csv(&self) -> Result<String, String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let e = |e: csv::Error| e.to_string();
        w.write_record([
            "participant",
            "item",
            "arm",
            "response",
            "conditions",
            "disposition",
            "confidence",
            "sources",
            "started",
            "submitted",
        ])
        .map_err(e)?;
        for a in self.store.answers().await? {
            w.write_record([
                a.participant.as_str(),
                &a.scenario,
                &self.exported_arm(&a.arm).await?,
                &Self::response_text(&a),
                &a.conditions.join("; "),
                a.disposition.as_deref().unwrap_or(""),
                &a.confidence.map(|c| c.to_string()).unwrap_or_default(),
                a.sources.as_deref().unwrap_or(""),
                &a.started.to_string(),
                &a.submitted.to_string(),
            ])
            .map_err(e)?;
        }
        String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    }

    /// The chats as conversation logs (the JSONL `measure` and `augment` read): one per
    /// participant and scenario, the item attached, with the arm's system prompt first.
    pub async fn export_logs(&self) -> Result<String, String> {
        let mut out = serde_json::json!({"logs": {"contains_phi": self.design.contains_phi, "note": format!("participants' chats in study {}", self.plan.id)}}).to_string();
        out.push('\n');
        for p in self.store.participants().await? {
            let prompt = self.design.arms.iter().find(|a| a.id == p.arm).and_then(|a| a.system_prompt.clone());
            for s in &p.scenarios {
                let turns = self.store.turns(&p.id, s).await?;
                if turns.is_empty() {
                    continue;
                }
                let mut messages: Vec<serde_json::Value> =
                    prompt.iter().map(|sp| serde_json::json!({"role": "system", "content": sp})).collect();
                messages.extend(turns.iter().map(|t| serde_json::json!({"role": t.role, "content": t.text})));
                let arm = self.exported_arm(&p.arm).await?;
                let line = serde_json::json!({"id": format!("{}-{s}", p.id), "item": s, "messages": messages, "metadata": {"arm": arm}});
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
        Ok(out)
    }
}

/// Whether an answer names a relevant condition (the plan's conditions grader, Bean mode at 80
/// unless the plan says otherwise) and gives the gold level of care.
fn graded(study: &Study, a: &Answer) -> Option<(bool, Option<bool>)> {
    let item = study.dataset.item(&a.scenario)?;
    let spec = study.plan.graders.iter().find(|g| g.kind == benchcards_core::GraderKind::Conditions);
    let (mode, threshold) = (spec.and_then(|g| g.mode).unwrap_or(GraderMode::Bean), spec.and_then(|g| g.threshold).unwrap_or(80));
    let named = grade::conditions(&a.conditions.join("\n"), &item.gold.names(), mode, threshold, None).score >= 1.0;
    let level = item.gold.disposition.as_deref().map(|g| a.disposition.as_deref() == Some(g));
    Some((named, level))
}

fn rate_cell(x: usize, n: usize) -> String {
    if n == 0 {
        return "— (n = 0)".into();
    }
    let [lo, hi] = benchcards_stats::proportion::wilson(x as f64, n as f64, 0.95);
    format!("{:.1}% (95% CI {:.1}–{:.1}%, n = {n})", 100.0 * x as f64 / n as f64, 100.0 * lo, 100.0 * hi)
}

/// One arm's current estimates, each a rate with its Wilson 95% interval and n (per answer).
pub struct Estimate {
    pub arm: String,
    /// Named a relevant condition.
    pub named: String,
    /// Chose the gold level of care.
    pub level: String,
}

/// Each arm's estimates from `answers`.
pub fn estimates(study: &Study, answers: &[Answer]) -> Vec<Estimate> {
    study
        .design
        .arms
        .iter()
        .map(|arm| {
            let grades: Vec<(bool, Option<bool>)> = answers.iter().filter(|a| a.arm == arm.id).filter_map(|a| graded(study, a)).collect();
            let levels: Vec<bool> = grades.iter().filter_map(|g| g.1).collect();
            Estimate {
                arm: arm.id.clone(),
                named: rate_cell(grades.iter().filter(|g| g.0).count(), grades.len()),
                level: rate_cell(levels.iter().filter(|l| **l).count(), levels.len()),
            }
        })
        .collect()
}

/// The researcher's dashboard (HTML, escaped): enrolment against the target, times, checks,
/// failures, and each arm's estimate with its interval and n.
pub(crate) async fn dashboard(study: &Study) -> Result<String, String> {
    let participants = study.store.participants().await?;
    let answers = study.store.answers().await?;
    let d = &study.design;
    let completed: Vec<_> = participants.iter().filter(|p| p.completed.is_some()).collect();
    let mut minutes: Vec<f64> = completed.iter().filter_map(|p| p.completed.map(|c| (c - p.started) as f64 / 60.0)).collect();
    minutes.sort_by(f64::total_cmp);
    let median = (!minutes.is_empty()).then(|| minutes[minutes.len() / 2]);
    let mut out = format!(
        "<h1>Study {}</h1>\n<p>{} of {} participants completed ({} in progress); {} withdrew. Median time to complete: {}. Comprehension retries: {}. Attention checks failed: {}. Model failures: {}.</p>\n",
        escape_html(&study.plan.id),
        completed.len(),
        d.target_participants,
        participants.len() - completed.len(),
        study.store.withdrawals().await?,
        median.map_or("—".into(), |m| format!("{m:.1} min")),
        participants.iter().map(|p| p.comprehension_attempts).sum::<u32>(),
        participants.iter().map(|p| p.attention_failed).sum::<u32>(),
        study.store.events("model_failure").await?,
    );
    // Each cell's share of the target: every participant sees `scenarios_per_participant` of the
    // scenarios, and arms and scenarios are balanced.
    let cell_target =
        (d.target_participants as usize * d.scenarios_per_participant as usize).div_ceil(d.arms.len() * study.scenarios.len());
    out.push_str(&format!(
        "<h2>Enrolment per arm and scenario</h2>\n<p>Answered / allocated, against a target of {cell_target} per cell.</p>\n<table><thead><tr><th>Scenario</th>"
    ));
    for arm in &d.arms {
        out.push_str(&format!("<th>{}</th>", escape_html(&arm.id)));
    }
    out.push_str("</tr></thead><tbody>");
    let mut cells: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for a in &answers {
        cells.entry((a.scenario.as_str(), a.arm.as_str())).or_default().0 += 1;
    }
    for p in &participants {
        for s in &p.scenarios {
            cells.entry((s.as_str(), p.arm.as_str())).or_default().1 += 1;
        }
    }
    for s in &study.scenarios {
        out.push_str(&format!("<tr><td>{}</td>", escape_html(s)));
        for arm in &d.arms {
            let (answered, allocated) = cells.get(&(s.as_str(), arm.id.as_str())).copied().unwrap_or_default();
            out.push_str(&format!("<td>{answered} / {allocated}</td>"));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n<h2>Current estimates</h2>\n<p>Per answer (a participant's scenarios are not independent: <code>benchcards study analyze</code> on the export gives intervals with participants as clusters).</p>\n<table><thead><tr><th>Arm</th><th>Named a relevant condition</th><th>Chose the right level of care</th></tr></thead><tbody>");
    for e in estimates(study, &answers) {
        out.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape_html(&e.arm), e.named, e.level));
    }
    out.push_str("</tbody></table>\n<p>Levels of care, in order: ");
    out.push_str(&LEVELS.iter().map(|(id, _)| format!("<code>{id}</code>")).collect::<Vec<_>>().join(" · "));
    out.push_str("</p>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_of_care_in_an_export_reads_back_as_itself() {
        for (level, _) in LEVELS {
            let a = Answer {
                participant: "p".into(),
                arm: "a".into(),
                scenario: "s".into(),
                conditions: vec!["a cold".into()],
                disposition: Some(level.into()),
                confidence: Some(3),
                sources: None,
                started: 0,
                submitted: 0,
            };
            assert_eq!(grade::read_disposition(&Study::response_text(&a)), Some(level), "{level}");
        }
    }
}
