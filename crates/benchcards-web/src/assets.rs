//! The site's one static asset: the wizard's script. Styles are inline in the report crate's
//! page shell; nothing is loaded from elsewhere.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Where the script is served; every page's shell loads it.
pub(crate) const WIZARD_JS_PATH: &str = "/static/wizard.js";

/// The wizard's one script: send the form's answers as they change, show the server's result.
const WIZARD_JS: &str = r#"// benchcards: live results for the deployment wizard. The page works without it.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("wizard");
  const result = document.getElementById("result");
  if (!form || !result) return;
  const update = async () => {
    const query = new URLSearchParams(new FormData(form)).toString();
    const response = await fetch("/wizard/result?" + query);
    if (response.ok) result.innerHTML = await response.text();
  };
  form.addEventListener("change", update);
});
"#;

pub(crate) async fn wizard_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], WIZARD_JS).into_response()
}
