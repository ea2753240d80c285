//! The site's one static asset: its script. Styles are inline in the page shell; nothing is
//! loaded from elsewhere.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Where the script is served; every page's shell loads it.
pub(crate) const WIZARD_JS_PATH: &str = "/static/wizard.js";

/// The site's one script. A wizard's form sends its answers as they change (typing settles
/// for a moment first) to the form's `data-result` address; the reply's summary replaces the
/// summary's text (the live region stays, so a screen reader reads the new line) and its details
/// replace the details; a reply to an older request is dropped. The registry filter offers the
/// chosen dimension's values.
const WIZARD_JS: &str = r#"// benchcards: live wizard results and the registry filter's value lists. The pages work without it.
document.addEventListener("DOMContentLoaded", () => {
  const dimension = document.querySelector("form.filter #dimension");
  const value = document.querySelector("form.filter #value");
  if (dimension && value) {
    dimension.addEventListener("change", () => value.setAttribute("list", "values-" + (dimension.value || "any")));
  }
  const form = document.getElementById("wizard");
  const summary = document.getElementById("summary");
  if (!form || !summary || !form.dataset.result) return;
  let latest = 0, timer = 0;
  const update = async () => {
    const mine = ++latest;
    const query = new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== "")).toString();
    let response;
    try {
      response = await fetch(form.dataset.result + "?" + query);
    } catch (e) {
      if (mine === latest) summary.textContent = "The server could not be reached; press the button to try again.";
      return;
    }
    const text = await response.text();
    if (mine !== latest) return;
    if (!response.ok) {
      summary.textContent = "The server refused the answers (HTTP " + response.status + ").";
      return;
    }
    const fresh = document.createElement("template");
    fresh.innerHTML = text;
    const details = fresh.content.getElementById("details");
    if (details) document.getElementById("details").replaceWith(details);
    summary.textContent = fresh.content.getElementById("summary")?.textContent ?? "";
  };
  form.addEventListener("change", update);
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 400); });
});
"#;

pub(crate) async fn wizard_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], WIZARD_JS).into_response()
}
