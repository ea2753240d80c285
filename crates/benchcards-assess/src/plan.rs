//! Drafts a staged plan from a comparison: conditions for broken task assumptions, ordered so
//! each step relaxes one thing; stage-4 study skeletons for broken outcome assumptions, ranked
//! by the group's weight and the likely size of the bias; questions for the designers.

use crate::compare::{BiasDirection, Comparison};
use benchcards_core::{
    CheckQuestion, ConditionSpec, DesignerQuestion, GraderKind, GraderMode, GraderSpec, Kind, ModelSpec, OutcomeQuestions,
    ParticipantLimits, PatientBehaviour, Plan, Provider, Sampling, Scoring, StudyAllocation, StudyArm, StudyCompletion, StudyDesign,
    StudySpec, Taxonomy, Verdict,
};
use benchcards_stats::study::{PowerDesign, PowerQuery};

/// Paths the plan refers to, relative to where it will be written.
pub struct PlanPaths {
    pub card: String,
    pub deployment: String,
    pub dataset: String,
}

fn needs_work(v: Verdict) -> bool {
    matches!(v, Verdict::Broken | Verdict::Partial)
}

pub fn draft(t: &Taxonomy, cmp: &Comparison, paths: PlanPaths) -> Plan {
    let dim = |id: &str| cmp.dimensions.iter().find(|d| d.id == id);
    let broken = |id: &str| dim(id).is_some_and(|d| needs_work(d.verdict));
    let mut wanted: Vec<&str> = vec!["vignette"];
    let mut notes = Vec::new();
    // Each task dimension that does not hold names its condition in its next step; query
    // authorship adds a lay rewrite first, so register changes alone before real messages
    // change register and completeness together.
    for d in cmp.dimensions.iter().filter(|d| d.kind == Kind::Task && needs_work(d.verdict)) {
        if let Some(cond) = d.next_step.as_deref().and_then(|s| s.strip_prefix("run_condition:")) {
            if d.group == "query_authorship" {
                wanted.push("lay_rewrite");
            }
            wanted.push(cond);
        }
    }
    if wanted.contains(&"framed") {
        wanted.retain(|c| *c != "framed");
        notes.push("prompt_framing does not hold: add a `framed` condition with the deployment's own `system_prompt`".to_string());
    }
    if wanted.contains(&"conversation") && (broken("decision_mediation") || broken("mediator_expertise")) {
        wanted.push("patient_decision");
    }
    // The taxonomy lists conditions in path order.
    let mut conditions: Vec<ConditionSpec> = t
        .conditions
        .iter()
        .filter(|c| wanted.contains(&c.id.as_str()))
        .map(|c| {
            let multi = c.interaction == "multi_turn";
            ConditionSpec {
                id: c.id.clone(),
                label: None,
                turn_limit: multi.then_some(10),
                patient: multi.then_some(PatientBehaviour::Truthful),
                persona: None,
                personas: None,
                scoring: (c.id == "conversation").then_some(Scoring::FinalAnswer),
                system_prompt: None,
                with: Vec::new(),
            }
        })
        .collect();
    if broken("misreporting") && conditions.iter().any(|c| c.id == "conversation") {
        let pos = conditions.iter().position(|c| c.id == "conversation").map_or(conditions.len(), |p| p + 1);
        conditions.insert(
            pos,
            ConditionSpec {
                id: "conversation".into(),
                label: Some("conversation_misreporting".into()),
                turn_limit: Some(10),
                patient: Some(PatientBehaviour::Misreporting),
                persona: None,
                personas: None,
                scoring: Some(Scoring::FinalAnswer),
                system_prompt: None,
                with: Vec::new(),
            },
        );
    }
    // Where two broken task assumptions have conditions that compose, add the cell that relaxes
    // both, completing a 2×2 factorial: `decompose --shapley` then gives each assumption an
    // order-free share of the drop.
    if conditions.iter().any(|c| c.id == "withheld") {
        let withheld_relaxes = t.condition("withheld").map_or(String::new(), |c| c.relaxes.clone());
        for base in ["options_removed", "lay_rewrite", "conversation"] {
            let Some(b) = conditions.iter().find(|c| c.id == base && c.label.is_none()).cloned() else { continue };
            let group = t.condition(base).map_or(String::new(), |c| c.relaxes.clone());
            conditions.push(ConditionSpec { with: vec!["withheld".into()], ..b });
            notes.push(format!(
                "`{base}+withheld` completes the factorial over {withheld_relaxes} × {group}: `benchcards decompose RESULTS --shapley {withheld_relaxes},{group}` splits their joint drop without depending on the path order"
            ));
        }
    }
    if conditions.iter().any(|c| c.id == "patient_decision") {
        notes.push("patient_decision scores a simulated patient's conclusion: a proxy, not a measurement of decision mediation (stage 4 studies below).".into());
    }
    let mut graders = vec![GraderSpec { mode: Some(GraderMode::Bean), threshold: Some(80), ..GraderSpec::new(GraderKind::Conditions) }];
    if dim("response_format").and_then(|d| d.benchmark.as_deref()) == Some("multiple_choice") {
        graders.push(GraderSpec::new(GraderKind::Mcq));
    }
    let studies = studies(t, cmp);
    let study = studies.iter().any(|s| s.group == "decision_mediation").then(|| {
        let (design, note) = study_design("smollm2-135m");
        notes.push(note);
        Box::new(design)
    });
    let questions = cmp
        .dimensions
        .iter()
        .filter(|d| d.verdict == Verdict::Unknown)
        .filter_map(|d| t.dimension(&d.id).map(|def| DesignerQuestion { dimension: d.id.clone(), question: def.question.clone() }))
        .collect();
    notes.push("the local model is tiny and its medical answers are not meaningful: point `models` at a real endpoint (provider: openai, base_urls, api_key_env) for real results".into());
    Plan {
        version: 1,
        id: format!("{}-for-{}", cmp.card_id, cmp.deployment_id),
        card: paths.card,
        deployment: paths.deployment,
        dataset: paths.dataset,
        dataset_format: None,
        dataset_map: Default::default(),
        models: vec![ModelSpec {
            id: "smollm2-135m".into(),
            provider: Provider::Local,
            model: None,
            base_urls: Vec::new(),
            api_key_env: None,
            sampling: Sampling { temperature: Some(0.0), top_p: None, max_tokens: Some(256), seed: Some(1) },
            pricing: None,
            demo: false,
            under_test: true,
        }],
        conditions,
        graders,
        epochs: 1,
        budget: None,
        human_study: None,
        patient_model: None,
        personas: Vec::new(),
        fidelity: None,
        studies,
        study,
        questions,
        notes,
    }
}

/// Arms, scenarios and participants a first study of decision mediation would plan with: the
/// drafted model against a control arm of usual resources, two scenarios each, sized to detect
/// a 10-point difference from a control arm near Bean et al.'s 47% (power 0.8, ICC 0.1 between
/// a participant's scenarios). Returns the design and the note to revise it.
fn study_design(model: &str) -> (StudyDesign, String) {
    let per_participant = 2;
    let mut q = PowerQuery::new(PowerDesign::Independent);
    (q.p1, q.p2, q.power, q.cluster_size, q.icc) = (Some(0.57), Some(0.47), Some(0.8), Some(per_participant as f64), Some(0.1));
    let per_arm = q.analyse().ok().and_then(|a| a.clustered.map(|c| c.clusters)).unwrap_or(1.0);
    let command =
        format!("benchcards study power --design independent --p1 0.57 --p2 0.47 --power 0.8 --cluster-size {per_participant} --icc 0.1");
    let design = StudyDesign {
        arms: vec![
            StudyArm {
                id: "with_model".into(),
                model: Some(model.into()),
                system_prompt: None,
                instructions: Some("Use the assistant below to help you decide what to do: ask it anything, as you would at home.".into()),
            },
            StudyArm {
                id: "control".into(),
                model: None,
                system_prompt: None,
                instructions: Some(
                    "Use whatever you would normally use to decide what to do: a search engine, a health website, a book, or your own judgement. Note where you looked in your own words."
                        .into(),
                ),
            },
        ],
        scenarios: Vec::new(),
        scenarios_per_participant: per_participant,
        allocation: StudyAllocation::default(),
        questions: OutcomeQuestions::default(),
        consent: "This study asks how people decide what to do about symptoms. You will read short scenarios and imagine you are the person in them; it takes about 20 minutes. Do not share anything about your own health. Your answers are stored without your name and used for research; you may stop at any time and withdraw your answers with the link on every page.".into(),
        instructions: "For each scenario, imagine you are the person described. Decide what you think is going on and what you would do next (from looking after yourself at home to calling an ambulance). There are no trick questions.".into(),
        comprehension: vec![CheckQuestion {
            question: "Whose symptoms are the scenarios about?".into(),
            options: vec!["My own".into(), "The person described, whom I imagine I am".into(), "A doctor's".into()],
            answer: 1,
        }],
        attention: vec![CheckQuestion {
            question: "To show you are reading, choose the colour of grass.".into(),
            options: vec!["Blue".into(), "Green".into(), "Red".into()],
            answer: 1,
        }],
        time_limit_minutes: 60,
        target_participants: (per_arm * 2.0) as u32,
        power: Some(format!(
            "{command}: {per_arm} participants per arm, times 2 arms (a 10-point difference from a control arm at 47%, Bean et al. 2026; ICC 0.1 assumed)"
        )),
        completion: StudyCompletion { code: "COMPLETE".into(), redirect: None },
        recruitment_ids: Vec::new(),
        recruitment_ids_in_clear: false,
        contains_phi: true,
        limits: ParticipantLimits::default(),
    };
    let note = format!(
        "`study` is a first design: {} participants, sized as its `power` says; set your own rates (and `power`), write the consent your ethics board approved, set the completion code of your recruitment platform, then `benchcards study register` the plan before the first participant",
        design.target_participants
    );
    (design, note)
}

fn studies(t: &Taxonomy, cmp: &Comparison) -> Vec<StudySpec> {
    let mut out: Vec<(f64, usize, StudySpec)> = Vec::new();
    for g in cmp.groups.iter().filter(|g| g.kind == Kind::Outcome && (g.broken > 0 || g.partial > 0)) {
        let dims: Vec<_> = cmp.dimensions.iter().filter(|d| d.group == g.id && needs_work(d.verdict)).collect();
        let optimistic = dims.iter().filter(|d| d.bias == BiasDirection::BenchmarkOptimistic).count();
        let design = dims
            .iter()
            .filter_map(|d| d.next_step.as_deref().and_then(|s| s.strip_prefix("behavioral_study:")))
            .next()
            .unwrap_or("rct")
            .to_string();
        let title = t.group(&g.id).map_or(g.id.clone(), |gr| gr.question.clone());
        let deployment: Vec<String> = dims.iter().filter_map(|d| d.deployment.clone().map(|v| format!("{} = {v}", d.id))).collect();
        let (question, outcome) = if g.id == "decision_mediation" {
            (
                format!(
                    "{title} At this deployment ({}), do people who use the model decide better than people who do not?",
                    deployment.join(", ")
                ),
                "the participant's own decision, graded with the same graders as the model's answers".to_string(),
            )
        } else {
            (
                format!("{title} At this deployment ({}), what outcome follows the model's use?", deployment.join(", ")),
                "the outcome the deployment cares about, observed, not the model's answer against a key".to_string(),
            )
        };
        out.push((
            g.weight_value,
            optimistic,
            StudySpec {
                group: g.id.clone(),
                priority: 0,
                design,
                question,
                primary_outcome: outcome,
                arms: vec!["with the model".into(), "without the model (usual resources)".into()],
                control_arm: "without the model (usual resources)".into(),
                power_inputs: vec![
                    "expected rate of the primary outcome in the control arm".into(),
                    "smallest difference worth detecting (or a non-inferiority margin)".into(),
                    "alpha and power".into(),
                    "scenarios per participant and the intra-cluster correlation, for the design effect".into(),
                ],
                rationale: format!(
                    "{} dimension(s) of this outcome group do not hold; {optimistic} bias the benchmark optimistically; group weight {:?}",
                    dims.len(),
                    g.weight
                )
                .to_lowercase(),
            },
        ));
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then_with(|| a.2.group.cmp(&b.2.group)));
    out.into_iter()
        .enumerate()
        .map(|(i, (_, _, mut s))| {
            s.priority = i as u32 + 1;
            s
        })
        .collect()
}
