// main.js routes skymap's UI: #/topology/<view>?q=&component=&at=&layout=,
// #/flows?component=|vpc=&range=&from=&to=&<filters>&sort=,
// #/changes?range=&actor=&type=, #/status?category=&severity=&source=&q=
// and #/sql?q=.
import "./app.css";
import * as topology from "./topology.js";
import * as changes from "./changes.js";
import * as flows from "./flows.js";
import * as status from "./status.js";
import * as sql from "./sql.js";

// CSP violations are counted for the browser tests: there must be none.
window.__skymap = window.__skymap || {};
window.__skymap.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__skymap.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});

const page = document.getElementById("page");

async function route() {
  const hash = location.hash.replace(/^#/, "") || "/topology/All";
  const [path, qs] = hash.split("?");
  const params = Object.fromEntries(new URLSearchParams(qs || ""));
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const name = parts[0] || "topology";
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === name);
  page.dataset.page = name;
  try {
    if (name === "flows") await flows.render(page, params);
    else if (name === "changes") await changes.render(page, params);
    else if (name === "status") await status.render(page, params);
    else if (name === "sql") await sql.render(page, params);
    else await topology.render(page, { view: parts[1] || "All", q: params.q, component: params.component, at: params.at,
      layout: params.layout });
  } catch (e) {
    console.error(e);
  }
  window.__skymap.route = hash;
}

window.addEventListener("hashchange", route);
route();
