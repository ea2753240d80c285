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
///
/// On a static copy (`benchcards site build`) there is no server: the registry filter hides the
/// rows of cards that do not match, and the deployment wizard (`data-static`) ranks the cards
/// from the copy's data file. There, `compare` decided each dimension's verdict for every answer
/// offered (a set's or a mixture's values one at a time); the script only combines them as
/// `compare` does (a set holds where every value holds, breaks where none does, else is partial;
/// a mixture whose values all hold is partial below the overlap the taxonomy asks), then scores
/// groups, fit and ranks as `fit.rs` and `registry::rank` do, in the same order of operations.
pub(crate) const WIZARD_JS: &str = r#"// benchcards: live wizard results and the registry filter's value lists. The pages work without it;
// a static copy (benchcards site build) needs it to filter the registry and to rank in the wizard.
const load = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response.json();
};
const unreadable = "The copy's data file could not be read (a static copy must be served over HTTP, not opened as a file).";

// The static registry: the rows of the cards whose value for the chosen dimension matches.
const filterStatically = async (form, dimension, value) => {
  const query = new URLSearchParams(location.search);
  const dim = query.get("dimension") || "", wanted = (query.get("value") || "").trim().toLowerCase();
  dimension.value = dim;
  value.value = query.get("value") || "";
  value.setAttribute("list", "values-" + (document.getElementById("values-" + dim) && dim ? dim : "any"));
  if (!dim) return;
  const shown = document.getElementById("shown");
  let data;
  try {
    data = await load(form.dataset.cards);
  } catch (e) {
    shown.textContent = unreadable;
    return;
  }
  const rows = document.querySelectorAll("main table tbody tr");
  let n = 0;
  data.cards.forEach((card, i) => {
    const ids = card.values[dim];
    const keep = ids !== undefined && (wanted === "" || ids.some((id) => id.toLowerCase() === wanted));
    if (rows[i]) rows[i].hidden = !keep;
    if (keep) n += 1;
  });
  shown.textContent = n + " of " + data.cards.length + " card(s).";
};

// The wizard's answers, as the server reads them: per answered dimension the keys of its
// precomputed verdicts (and a mixture's shares), and the problems.
const answersOf = (data, fields) => {
  const answers = {}, problems = [];
  const asOf = String(fields.get("as_of") || "").trim();
  for (const d of data.dimensions) {
    let keys = [], shares = null;
    if (d.kind === "shares") {
      const prefix = "share." + d.id + ".";
      shares = [];
      for (const [k, v] of fields) {
        const text = String(v).trim();
        if (!k.startsWith(prefix) || text === "") continue;
        const s = Number(text);
        if (!Number.isFinite(s)) problems.push(d.title + ", share of " + k.slice(prefix.length) + ": `" + text + "` is not a number");
        else if (s !== 0) shares.push([k.slice(prefix.length), s]);
      }
      const sum = shares.reduce((a, [, s]) => a + s, 0);
      if (shares.some(([, s]) => s < 0 || s > 1) || (shares.length && Math.abs(sum - 1) > data.share_tolerance)) {
        problems.push(d.title + ": shares are between 0 and 1 and add up to 1");
      }
      keys = shares.map(([v]) => v);
    } else {
      const values = fields.getAll(d.id).map((v) => String(v).trim()).filter((v) => v !== "");
      if (values.length) keys = d.kind === "set" ? values : [d.kind === "dated" ? values[0] + "@" + asOf : values[0]];
    }
    if (!keys.length) continue;
    for (const k of keys) {
      if (!d.keys.includes(k)) {
        const [value, date] = k.split("@");
        problems.push(d.title + ": this copy ranks the answers listed under the question, not `" + value + "`" + (date ? " as of " + date : "") + "; `benchcards match` ranks any");
      }
    }
    answers[d.id] = { keys, shares };
  }
  return { answers, problems };
};

// One card's verdict on one answered dimension, from the verdicts compare gave each value.
const verdictOf = (data, card, id, answer) => {
  if (!answer) return "not_assessed";
  const each = answer.keys.map((k) => card.verdicts[id][k]);
  let verdict = each.every((v) => v === each[0]) ? each[0] : "partial";
  const cardShares = card.shares[id];
  if (verdict === "holds" && answer.shares && cardShares) {
    const overlap = answer.shares.reduce((a, [v, s]) => a + Math.min(s, cardShares[v] || 0), 0);
    if (overlap < data.holds_share - 1e-9) verdict = "partial";
  }
  return verdict;
};

// A card's fit range, unstated dimensions and broken groups (fit.rs and compare.rs).
const assess = (data, card, answers, weightOf) => {
  const verdicts = {};
  for (const d of data.dimensions) verdicts[d.id] = verdictOf(data, card, d.id, answers[d.id]);
  const groups = data.groups.map((g) => {
    const measured = card.measured.includes(g.id) ? 1 : 0;
    const scores = g.dimensions.map((id) => data.scores[verdicts[id]][measured]).filter((s) => s !== null);
    const n = scores.length;
    const score = n ? [scores.reduce((a, s) => a + s[0], 0) / n, scores.reduce((a, s) => a + s[1], 0) / n] : null;
    const broken = g.dimensions.some((id) => verdicts[id] === "broken");
    return { id: g.id, weight: weightOf(g.id), score, broken, measured };
  });
  const assessed = groups.filter((g) => g.score);
  const den = assessed.reduce((a, g) => a + data.weights[g.weight], 0);
  const fit = den > 0
    ? [assessed.reduce((a, g) => a + data.weights[g.weight] * g.score[0], 0) / den, assessed.reduce((a, g) => a + data.weights[g.weight] * g.score[1], 0) / den]
    : null;
  const broken = groups.filter((g) => g.broken).sort((a, b) => data.weights[b.weight] - data.weights[a.weight]);
  return {
    card, fit,
    unknown: Object.values(verdicts).filter((v) => v === "unknown").length,
    broken: broken.map((g) => g.id + " (" + g.weight + (g.measured ? "; cost measured" : "") + ")"),
  };
};

// Two decimals as Rust writes them: an exact tie rounds to even.
const twoPlaces = (x) => {
  if (Number.isInteger(x * 8) && !Number.isInteger(x * 4)) {
    const down = Math.floor(x * 100);
    return ((down % 2 === 0 ? down : down + 1) / 100).toFixed(2);
  }
  return x.toFixed(2);
};
const fitText = (fit) => !fit ? "not computable" : Math.abs(fit[1] - fit[0]) < 0.005 ? twoPlaces(fit[0]) : twoPlaces(fit[0]) + "–" + twoPlaces(fit[1]);

// Best first by fit's low end, then fewer unstated dimensions, then the high end; then by id.
const ranked = (results) => {
  const close = (a, b) => Math.abs(a - b) < 1e-9 ? 0 : a < b ? -1 : 1;
  const low = (r) => r.fit ? r.fit[0] : -1, high = (r) => r.fit ? r.fit[1] : -1;
  return results.sort((a, b) => close(low(b), low(a)) || Math.sign(a.unknown - b.unknown) || close(high(b), high(a))
    || (a.card.id < b.card.id ? -1 : a.card.id > b.card.id ? 1 : 0));
};

const cell = (tag, text) => {
  const c = document.createElement(tag);
  c.textContent = text;
  return c;
};

// The ranking as a table, every card linking to its page.
const rankingTable = (results) => {
  const table = document.createElement("table");
  table.id = "ranking";
  table.append(cell("caption", "Every card, best fit first"));
  const head = document.createElement("thead"), headRow = document.createElement("tr");
  for (const h of ["Rank", "Card", "Fit (low–high)", "Unstated", "Breaks"]) {
    const th = cell("th", h);
    th.scope = "col";
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement("tbody");
  results.forEach((r, i) => {
    const row = document.createElement("tr"), name = document.createElement("td"), link = cell("a", r.card.name);
    link.href = r.card.page;
    name.append(link);
    row.append(cell("td", String(i + 1)), name, cell("td", r.fit ? fitText(r.fit) : "—"), cell("td", String(r.unknown)), cell("td", r.broken.join(", ") || "none"));
    body.append(row);
  });
  table.append(head, body);
  return table;
};

const count = (n, noun) => n + " " + noun + (n === 1 ? "" : "s");

// The static wizard: the form restored from the address, and the ranking as answers change.
const rankStatically = async (form, summary) => {
  for (const [k, v] of new URLSearchParams(location.search)) {
    for (const field of form.elements) {
      if (field.name !== k) continue;
      if (field.type === "checkbox") field.checked = field.checked || field.value === v;
      else field.value = v;
    }
  }
  const details = document.getElementById("details");
  let data;
  try {
    data = await load(form.dataset.static);
  } catch (e) {
    summary.textContent = unreadable;
    return;
  }
  const update = () => {
    const fields = new FormData(form);
    const { answers, problems } = answersOf(data, fields);
    const answered = Object.keys(answers).length;
    if (problems.length) {
      summary.textContent = "Not yet a deployment profile this copy can rank: " + count(problems.length, "problem") + " (listed below).";
      const list = document.createElement("ul");
      list.className = "problems";
      list.append(...problems.map((p) => cell("li", p)));
      details.replaceChildren(cell("h2", "To fix"), list);
      return;
    }
    if (!answered) {
      summary.textContent = "Answer a question to see how the registry's benchmarks fit.";
      details.replaceChildren();
      return;
    }
    const weightOf = (g) => data.weights[fields.get("weight." + g)] !== undefined ? fields.get("weight." + g) : "normal";
    const results = ranked(data.cards.map((card) => assess(data, card, answers, weightOf)));
    const best = results[0], broken = best.broken.length;
    summary.textContent = "Best fit: " + best.card.name + ", fit " + fitText(best.fit) + "; " + broken + " of " + data.groups.length + " groups "
      + (broken === 1 ? "breaks" : "break") + "; " + count(data.dimensions.length - answered, "dimension") + " not answered.";
    details.replaceChildren(cell("h2", "Ranked matches"), rankingTable(results));
  };
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
};

document.addEventListener("DOMContentLoaded", () => {
  const dimension = document.querySelector("form.filter #dimension");
  const value = document.querySelector("form.filter #value");
  if (dimension && value) {
    dimension.addEventListener("change", () => value.setAttribute("list", "values-" + (dimension.value || "any")));
    const filter = document.querySelector("form.filter");
    if (filter.dataset.cards) filterStatically(filter, dimension, value);
  }
  const form = document.getElementById("wizard");
  const summary = document.getElementById("summary");
  if (!form || !summary) return;
  if (form.dataset.static) {
    rankStatically(form, summary);
    return;
  }
  if (!form.dataset.result) return;
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
