//! Every command and flag, defined in one place.

use benchcards_core::results::{ResultColumns, StudyColumns};
use benchcards_eval::logs::CsvColumns;
use benchcards_stats::bootstrap::{BootstrapArgs, confidence_level};
use benchcards_stats::data::Weights;
use benchcards_stats::proportion::CONFIDENCE;
use benchcards_stats::study::PowerQuery;
use benchcards_study::args as study_args;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "benchcards",
    version,
    about = "Make the hidden assumptions of healthcare LLM benchmarks explicit, and measure what they cost."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
    Md,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Md,
    Html,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportTarget {
    /// The card format of the paper's repository (Raman et al.).
    Raman,
    /// Croissant's Responsible AI fields (`rai:`), as JSON-LD.
    CroissantRai,
}

/// Makes a command exit with status 3 when the condition is met, for CI pipelines.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A dimension of a group the deployment weighs `critical` is broken.
    BrokenCritical,
}

/// Exit status when a `--fail-on` condition is met.
pub const FAIL_ON_EXIT: u8 = 3;

/// A results file, and where its columns are when they have other names.
#[derive(Args, Clone)]
pub struct ResultsArgs {
    /// Results in the long form: CSV with a header, or JSONL (by extension).
    pub results: PathBuf,
    #[command(flatten)]
    pub columns: ResultColumns,
    /// Condition metadata (CSV: condition, model, grader, unit_source, relaxes, proxy);
    /// default: those columns in the results file, then the taxonomy's condition definitions.
    #[arg(long)]
    pub condition_meta: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GateFailOn {
    /// Some group's drop is above its tolerance.
    GateFail,
}

#[derive(Subcommand)]
pub enum StudyCommand {
    /// Sample size or power for a stage-4 study (or a stage-3 comparison).
    Power(PowerArgs),
    /// Analyse a behavioural study: per-arm rates, tests against the control arm, per scenario,
    /// and calibration of simulated results against human ones.
    Analyze(AnalyzeArgs),
    /// Freeze the plan's study design (hash, seed, analysis, target) before the first participant.
    Register(study_args::RegisterArgs),
    /// Run the plan's study with people: consent, scenarios, chats with the arm's model, questions.
    Serve(study_args::ServeArgs),
    /// Write the study's answers as the `human_study` CSV, and its chats as conversation logs.
    Export(study_args::ExportArgs),
    /// Pilot the study with simulated participants through its real pages, in a store of its own.
    Pilot(study_args::PilotArgs),
}

#[derive(Args)]
pub struct PowerArgs {
    #[command(flatten)]
    pub query: PowerQuery,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// CSV or JSONL, one row per participant × scenario, already graded (a 0/1 score).
    pub data: PathBuf,
    /// The arm without the model.
    #[arg(long)]
    pub control: String,
    #[command(flatten)]
    pub columns: StudyColumns,
    /// Results of simulated people on the same scenarios (results form, stratum = scenario).
    #[arg(long)]
    pub simulated: Option<PathBuf>,
    /// The condition of the simulated results to use.
    #[arg(long)]
    pub simulated_condition: Option<String>,
    #[arg(long, default_value_t = CONFIDENCE, value_parser = confidence_level)]
    pub confidence: f64,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
    EveryEvalEver,
}

#[derive(Subcommand)]
pub enum RunsCommand {
    /// Every run in the store.
    List(RunsListArgs),
    /// One run: per condition, samples done and failed, tokens, retries and failures.
    Show(RunsShowArgs),
    /// Two runs on the same items (two models, or before and after a fix): per condition, the
    /// paired difference with its interval and McNemar's test.
    Compare(RunsCompareArgs),
    /// A run's graded samples in the results form `decompose` reads, with condition metadata.
    Export(RunsExportArgs),
}

#[derive(Args)]
pub struct RunsListArgs {
    #[arg(long, default_value = "benchcards-runs.sqlite")]
    pub store: PathBuf,
}

#[derive(Args)]
pub struct RunsShowArgs {
    pub run: String,
    /// The run store (default: the one in this folder that holds the run).
    #[arg(long)]
    pub store: Option<PathBuf>,
}

#[derive(Args)]
pub struct RunsCompareArgs {
    pub run_a: String,
    pub run_b: String,
    /// The run store (default: the one in this folder that holds the run).
    #[arg(long)]
    pub store: Option<PathBuf>,
    #[arg(long)]
    pub grader: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Args)]
pub struct RunsExportArgs {
    pub run: String,
    /// The run store (default: the one in this folder that holds the run).
    #[arg(long)]
    pub store: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Grader whose score to export (default: the plan's first).
    #[arg(long)]
    pub grader: Option<String>,
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Leave out simulated conversations that failed a fidelity check (a sensitivity analysis).
    #[arg(long)]
    pub exclude_unfaithful: bool,
}

/// Who a report is for.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Audience {
    /// The full report: readiness, card, assessment, scores, decomposition, transcripts.
    Team,
    /// One printable page: what the benchmark measured and assumed, what is tested, what to ask.
    Clinician,
}

#[derive(Subcommand)]
pub enum CardCommand {
    /// Start a card: every dimension `not_specified`, each with its question and values.
    New(NewCardArgs),
    /// Write the card of an adapted benchmark: what the augmentation changed, the drops runs
    /// measured, and the provenance of both.
    Derive(DeriveArgs),
}

#[derive(Args)]
pub struct NewCardArgs {
    /// The benchmark's id, lowercase with hyphens (e.g. `my-benchmark`).
    pub id: String,
    /// Where to write it (default: standard output); a `.md` file gets Markdown.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct DeriveArgs {
    /// The card of the benchmark before adaptation.
    pub base: PathBuf,
    /// The adapted dataset (written by `benchcards augment`).
    #[arg(long)]
    pub dataset: PathBuf,
    /// Runs on the adapted dataset whose drops become the card's `tested` entries.
    #[arg(long = "runs", num_args = 1..)]
    pub runs: Vec<String>,
    /// The run store (default: the one in this folder that holds the run).
    #[arg(long)]
    pub store: Option<PathBuf>,
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// The matrix of cards × assumption groups, and the settings no card covers.
    Overview(OverviewArgs),
    /// Print a bundled card, deployment profile, or the demo's plan, dataset or logs, by id.
    Show(BundledArgs),
    /// Write a bundled file by id (to its own file name here unless `-o` says where).
    Export(BundledArgs),
}

#[derive(Args)]
pub struct BundledArgs {
    /// An id (`pubmedqa`, `patient-symptom-chatbot`, `symptoms-uk`) or a file name.
    pub id: String,
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct OverviewArgs {
    /// Folder of cards (default: the bundled registry).
    #[arg(long)]
    pub registry: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Subcommand)]
pub enum Command {
    /// Show the taxonomy: groups, dimensions, vocabularies with definitions, rules, flags.
    Taxonomy(TaxonomyArgs),
    /// Validate cards, deployment profiles and plans (exit 1 when any has errors).
    Check(CheckArgs),
    /// Write the JSON Schemas of the three file kinds.
    Schema(SchemaArgs),
    /// Convert a card in another format (the paper repository's, BenchmarkCards JSON) into a
    /// BenchmarkCard.
    Import(ImportArgs),
    /// Write a card in another format.
    Export(ExportArgs),
    /// Render a card for people: Markdown (works as a dataset README), HTML or JSON.
    Render(RenderArgs),
    /// Compare a card with a deployment: a verdict, reason, bias and next step per dimension.
    Compare(CompareArgs),
    /// Rank the registry's cards by fit to a deployment, explaining each rank.
    Match(MatchArgs),
    /// Deployment values no card covers, the closest card for each, and how to adapt it.
    Gaps(GapsArgs),
    /// Questions about the registry as a whole.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Draft a staged evaluation plan for a card and a deployment.
    Plan(PlanArgs),
    /// Split the gap between conditions into per-assumption contributions, with intervals, for a
    /// declared estimand.
    Decompose(DecomposeArgs),
    /// Stage 3's gate: per group with a tolerance, pass, fail or inconclusive. With `--card`, a
    /// group the results do not measure shows the card's published drops (on another model).
    Gate(GateArgs),
    /// Run a plan: every condition × item × model × epoch, recorded durably in the run store.
    Run(benchcards_eval::session::RunArgs),
    /// Runs in the store.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// Stage 2 from logs: turns, lengths, register, completeness and language of real
    /// conversations, with intervals; optionally the deployment profile they measure.
    Measure(MeasureArgs),
    /// Attach real first messages and whole conversations to the dataset's items by id, so
    /// `patient_query` poses real words.
    Augment(benchcards_eval::logs::AugmentArgs),
    /// A self-contained report — HTML, or its Markdown twin, by the output's extension — of a
    /// run, a comparison, or a decomposition.
    Report(ReportArgs),
    /// The local web UI: the registry and its heatmap, card pages, the deployment wizard, runs,
    /// and a JSON API. Listens on 127.0.0.1 unless --host says otherwise.
    Serve(benchcards_web::ServeArgs),
    /// The web UI's read-only pages as a static site to publish (registry, heatmap, cards, wizard).
    Site {
        #[command(subcommand)]
        command: benchcards_web::SiteCommand,
    },
    /// Cards of adapted benchmarks.
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// Grade answers produced elsewhere (another harness, a human study) and write the results form.
    Grade(benchcards_eval::responses::GradeArgs),
    /// Stage 4: power before a behavioural study, analysis after.
    Study {
        #[command(subcommand)]
        command: StudyCommand,
    },
    /// Simulated conversations checked against their cases: invented statements, volunteered
    /// key facts, persona consistency, a leaked diagnosis.
    Fidelity(benchcards_eval::fidelity::FidelityArgs),
    /// Datasets as other benchmarks publish them, read into benchcards' own form.
    Dataset {
        #[command(subcommand)]
        command: benchcards_eval::import::DatasetCommand,
    },
    /// Other harnesses' per-sample logs (Inspect AI, lm-evaluation-harness) as benchcards results.
    Results {
        #[command(subcommand)]
        command: benchcards_eval::harness::ResultsCommand,
    },
    /// The whole flow offline on built-in defaults: stage 1 on the bundled registry, stage 2 on
    /// the bundled logs, stage 3 with the embedded local model on a few bundled vignettes, a
    /// decomposition and a report
    Demo(DemoArgs),
}

#[derive(Args)]
pub struct TaxonomyArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Args)]
pub struct CheckArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
}

#[derive(Args)]
pub struct SchemaArgs {
    /// Folder to write into.
    #[arg(long, default_value = "schema")]
    pub out: PathBuf,
    /// Only check that the files in the folder are current (exit 1 when stale).
    #[arg(long)]
    pub check: bool,
}

#[derive(Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// The card's format (default: told from its keys).
    #[arg(long, value_enum)]
    pub from: Option<benchcards_core::paper::ImportFormat>,
    /// Write the card here (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write a draft deployment profile from the card's `holds_at_deployment` texts.
    #[arg(long)]
    pub profile: Option<PathBuf>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub to: ExportTarget,
    pub card: PathBuf,
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct RenderArgs {
    pub card: PathBuf,
    #[arg(long, value_enum, default_value = "md")]
    pub format: RenderFormat,
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct CompareArgs {
    pub card: PathBuf,
    pub deployment: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

#[derive(Args)]
pub struct MatchArgs {
    pub deployment: PathBuf,
    /// Folder of cards (default: the bundled registry).
    #[arg(long)]
    pub registry: Option<PathBuf>,
    /// Show only the best K.
    #[arg(long)]
    pub top: Option<usize>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
    /// With `broken-critical`: fail when even the best match breaks a critical group.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

#[derive(Args)]
pub struct GapsArgs {
    pub deployment: PathBuf,
    #[arg(long)]
    pub registry: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Args)]
pub struct PlanArgs {
    pub card: PathBuf,
    pub deployment: PathBuf,
    /// The dataset the plan will run on (JSONL).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Where to write the plan (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct DecomposeArgs {
    #[command(flatten)]
    pub input: ResultsArgs,
    /// Conditions in order, from the benchmark as written to the deployment (e.g. A,B,C,D).
    #[arg(long, value_delimiter = ',', required = true)]
    pub path: Vec<String>,
    /// A counterfactual condition drawn as a line (e.g. a control arm without the model).
    #[arg(long)]
    pub reference: Option<String>,
    #[arg(long, value_enum, default_value_t = Weights::Pooled)]
    pub weights: Weights,
    /// Deployment profile whose `case_mix` gives stratum weights.
    #[arg(long)]
    pub case_mix: Option<PathBuf>,
    /// Shapley values over these assumption groups (every cell of their factorial must exist).
    #[arg(long, value_delimiter = ',')]
    pub shapley: Option<Vec<String>>,
    /// The uptake table: MODEL_CONDITION,PERSON_CONDITION graded on the same units.
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub uptake: Option<Vec<String>>,
    /// Also show how each step moves with one stratum left out, another grader of the same
    /// conditions, and every order of the path (when the factorial exists).
    #[arg(long)]
    pub sensitivity: bool,
    #[command(flatten)]
    pub boot: BootstrapArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
    /// Also draw the waterfall as SVG here.
    #[arg(long)]
    pub chart: Option<PathBuf>,
}

#[derive(Args)]
pub struct GateArgs {
    #[command(flatten)]
    pub input: ResultsArgs,
    #[arg(long)]
    pub deployment: PathBuf,
    /// The benchmark's card: its verdicts, and its published drops for groups not measured here.
    #[arg(long)]
    pub card: Option<PathBuf>,
    #[arg(long, value_delimiter = ',', required = true)]
    pub path: Vec<String>,
    #[command(flatten)]
    pub boot: BootstrapArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
    #[arg(long, value_enum)]
    pub fail_on: Option<GateFailOn>,
}

#[derive(Args)]
pub struct MeasureArgs {
    /// Conversation logs: JSONL in the chat `messages` format, or CSV with one row per turn.
    #[arg(required_unless_present = "compare")]
    pub logs: Option<PathBuf>,
    /// Simulated conversations against real ones: each figure's difference with its interval,
    /// and whether it is within its tolerance.
    #[arg(long, num_args = 2, value_names = ["SIMULATED", "REAL"], conflicts_with_all = ["logs", "profile", "output"])]
    pub compare: Vec<PathBuf>,
    /// With --compare: FIGURE=VALUE, the largest difference to accept (defaults in the book).
    #[arg(long, value_parser = benchcards_eval::measure::figure_tolerance)]
    pub tolerance: Vec<(String, f64)>,
    /// The benchmark's dataset: compare the register with its items, and measure the key
    /// facts of the items conversations name.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// A deployment profile to carry the measured values (default: a new profile).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Write the profile with the measured dimensions (`status: measured`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub columns: CsvColumns,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

#[derive(Args)]
pub struct ReportArgs {
    /// A run in the store.
    #[arg(required_unless_present_any = ["compare", "decompose"])]
    pub run: Option<String>,
    /// A card and a deployment profile, compared.
    #[arg(long, num_args = 2, value_names = ["CARD", "DEPLOYMENT"], conflicts_with_all = ["run", "decompose"])]
    pub compare: Option<Vec<PathBuf>>,
    /// A results file, decomposed along --path.
    #[arg(long, conflicts_with = "run", requires = "path")]
    pub decompose: Option<PathBuf>,
    /// With --decompose: the conditions in path order.
    #[arg(long, value_delimiter = ',')]
    pub path: Vec<String>,
    /// With --decompose: the conditions' metadata (as for `decompose`).
    #[arg(long, requires = "decompose")]
    pub condition_meta: Option<PathBuf>,
    /// With --decompose: the uptake table of MODEL_CONDITION,PERSON_CONDITION graded on the
    /// same units.
    #[arg(long, value_delimiter = ',', num_args = 1, requires = "decompose")]
    pub uptake: Option<Vec<String>>,
    /// The run store (default: the one in this folder that holds the run).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// FILE.html or FILE.md.
    #[arg(short, long)]
    pub output: PathBuf,
    #[arg(long, value_enum, default_value = "team")]
    pub audience: Audience,
    /// Leave the transcripts out (a report to share without the conversations' text).
    #[arg(long)]
    pub no_transcripts: bool,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the demo's plan, dataset, run store, results and report
    #[arg(long, default_value = "benchcards-demo")]
    pub out: PathBuf,
    /// How many of the bundled vignettes the local model answers
    #[arg(long, default_value_t = 4)]
    pub items: usize,
    /// Stages 1 and 2 only: no model is loaded
    #[arg(long)]
    pub no_model: bool,
}
