// changes.js is the changes timeline: the estate's changes over a time
// range, newest first, each linking to its component.
import { get } from "./api.js";
import { clear, componentHref, fmtTime, h, table } from "./dom.js";
import { diffCell } from "./details.js";

const RANGES = { "1h": 1, "24h": 24, "7d": 168, "30d": 720 };

// render shows the changes over range (a key of RANGES), filtered by the
// API's actor and type parameters.
export async function render(page, { range = "24h", actor = "", type = "" }) {
  if (!RANGES[range]) range = "24h";
  clear(page);
  const form = h("form", { className: "filters", onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams({ range: rangeSel.value });
    if (actorIn.value) p.set("actor", actorIn.value);
    if (typeIn.value) p.set("type", typeIn.value);
    location.hash = "#/changes?" + p;
  } });
  const rangeSel = h("select", { id: "changes-range", "aria-label": "Range", onchange: () => form.requestSubmit() },
    Object.keys(RANGES).map((r) => h("option", { value: r, selected: r === range }, "last " + r)));
  const actorIn = h("input", { type: "text", placeholder: "actor", value: actor, "aria-label": "Actor" });
  const typeIn = h("input", { type: "text", placeholder: "type, e.g. aws.ec2.instance", value: type, "aria-label": "Type" });
  form.append(rangeSel, actorIn, typeIn, h("button", { type: "submit" }, "Filter"));
  const out = h("div", { id: "changes" }, h("p", { className: "muted" }, "Loading…"));
  page.append(h("div", { className: "doc" }, h("h1", null, "Changes"), form, out));

  const to = new Date();
  const from = new Date(to.getTime() - RANGES[range] * 3600e3);
  let res;
  try {
    res = await get("/api/changes", { from: from.toISOString(), to: to.toISOString(), actor, type, limit: 1000 });
  } catch (e) {
    clear(out).append(h("p", { className: "error" }, "Could not read the changes: " + e.message));
    return;
  }
  const versions = (res.versions || []).slice().sort((a, b) => b.seq - a.seq);
  clear(out);
  const note = `${versions.length} changes from ${fmtTime(from)} to ${fmtTime(to)}` +
    (res.history_start ? ` (history kept since ${fmtTime(res.history_start)})` : "") +
    (versions.length >= 1000 ? "; the newest 1,000 are shown" : "");
  out.append(h("p", { className: "muted", id: "changes-count" }, note));
  if (!versions.length) return;
  out.append(table(["time", "change", "what", "cause", "actor", "what changed"], versions.map((v) => [
    fmtTime(v.time),
    h("span", { className: "change change-" + v.change }, v.change),
    v.entity === "component" ? h("a", { href: componentHref(v.id) }, nameOf(v)) : relationText(v.id),
    v.cause || "",
    [v.actor, v.source_ip].filter(Boolean).join(" from "),
    diffCell(v.diff),
  ]), "grid compact changes"));
}

function nameOf(v) {
  const s = v.state || {};
  return (s.name && s.name !== v.id ? s.name + " (" + (s.type || "") + ")" : v.id);
}

// relationText shows a relation's "source|type|target" id readably.
function relationText(id) {
  const [s, type, t] = id.split("|");
  if (t === undefined) return id;
  return h("span", null, h("a", { href: componentHref(s) }, s), " " + type + " ", h("a", { href: componentHref(t) }, t));
}
