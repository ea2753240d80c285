//! benchcards-core: the taxonomy, the card / deployment profile / plan types, and reading them
//! with positioned diagnostics. Pure: no async runtime, network or database.

pub mod bundled;
pub mod de;
pub mod diag;
pub mod document;
pub mod emit;
pub mod hf;
pub mod ibm;
pub mod model;
pub mod paper;
pub mod personas;
pub mod results;
pub mod schema;
pub mod taxonomy;
pub mod template;
pub mod validate;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Pos, Severity};
pub use document::{DocKind, Document, LoadError, Loaded, Source, load_card, load_file, load_plan, load_profile, load_text};
pub use model::*;
pub use taxonomy::{Kind, Taxonomy, taxonomy};
