// views.js reads the views of GET /api/views (each configured instance's
// built-in All, Infrastructure and Serverless, and the users' own) and
// edits the users' own: a filter over type, layer, label, account, region
// and name, saved in skymap's store.
import { get, send } from "./api.js";
import { h } from "./dom.js";

// KINDS are the built-in views of each instance, as their ids end.
export const KINDS = ["All", "Infrastructure", "Serverless"];

// LAYERS are TOPOLOGY.md's layers, in its order.
export const LAYERS = ["Networking", "Machines", "Containers", "Serverless", "Storage", "Databases", "Messaging", "Management"];

// loadViews returns the views, or [] with the error when they cannot be
// read (the map is then shown whole).
export async function loadViews() {
  try {
    return { views: (await get("/api/views")).views || [], error: "" };
  } catch (e) {
    return { views: [], error: "Could not read the views: " + e.message };
  }
}

// kindOf returns "All", "Infrastructure" or "Serverless" for a built-in
// view, "" for the others.
export function kindOf(v) {
  if (!v || !v.builtin) return "";
  return KINDS.find((k) => v.id.endsWith("-" + k.toLowerCase())) || "";
}

// instanceOf returns the instance of a built-in view: "" for the views
// of every instance together.
export function instanceOf(v) {
  return (v && v.instance) || "";
}

// defaultInstance is the instance whose built-in views a route names by
// kind: current's, else the first built-in view's.
export function defaultInstance(views, current) {
  if (current && current.builtin) return instanceOf(current);
  return instanceOf(views.find((v) => v.builtin));
}

// resolveView returns the view the route names: by id, or by kind ("All",
// "Infrastructure", "Serverless") that built-in view of defaultInstance;
// null when there is none.
export function resolveView(views, name, current) {
  const byId = views.find((v) => v.id === name);
  if (byId) return byId;
  if (KINDS.includes(name)) {
    const inst = defaultInstance(views, current);
    return views.find((v) => v.builtin && instanceOf(v) === inst && kindOf(v) === name) || null;
  }
  return null;
}

// groupOf is the picker's group of a view: "AWS - <instance>" for
// built-in views.
export function groupOf(v) {
  return v.builtin ? v.name.replace(/ - [^-]*$/, "") : "Your views";
}

// describe says in words what a view's filter keeps.
export function describe(f) {
  const parts = [];
  const list = (label, xs) => { if (xs && xs.length) parts.push(label + " " + xs.join(" or ")); };
  list("type", f.types);
  list("layer", f.layers);
  if (f.labels && f.labels.length) parts.push("labels " + f.labels.join(" and "));
  list("account", f.accounts);
  list("region", f.regions);
  if (f.name) parts.push("name contains “" + f.name + "”");
  return parts.length ? parts.join("; ") : "every component";
}

// splitList reads a comma- or space-separated list; sep /,/ keeps the
// spaces inside values (labels may hold them).
export function splitList(s, sep = /[\s,]+/) {
  return (s || "").split(sep).map((x) => x.trim()).filter(Boolean);
}

// editor returns a form that creates a view (view null) or changes one,
// calling saved(view) once the API stored it. types are offered as
// suggestions.
export function editor(view, { types = [], saved, cancel }) {
  const f = (view && view.filter) || {};
  const field = (id, label, value, hint) => h("label", { for: id }, label,
    h("input", { id, name: id, type: "text", value: value || "", placeholder: hint || "", list: id === "vf-types" ? "vf-type-list" : null }));
  const err = h("p", { className: "error", role: "alert", id: "view-error" });
  const layers = LAYERS.map((l) => h("label", { className: "check" },
    h("input", { type: "checkbox", name: "vf-layer", value: l, checked: (f.layers || []).includes(l) }), l));
  const form = h("form", { className: "view-editor", id: "view-editor", "aria-label": view ? "Change view" : "New view" },
    h("h3", null, view ? "Change view “" + view.name + "”" : "New view"),
    field("vf-name", "Name", view && view.name, "e.g. Production web"),
    h("fieldset", null, h("legend", null, "Layers (any of)"), layers),
    field("vf-types", "Types (any of)", (f.types || []).join(", "), "aws.ec2.instance, aws.s3.bucket"),
    h("datalist", { id: "vf-type-list" }, types.map((t) => h("option", { value: t }))),
    field("vf-labels", "Labels (all of)", (f.labels || []).join(", "), "env:prod, team:*"),
    field("vf-accounts", "Accounts (any of)", (f.accounts || []).join(", "), "123456789012"),
    field("vf-regions", "Regions (any of)", (f.regions || []).join(", "), "eu-west-1, global"),
    field("vf-match", "Name contains", f.name, "web"),
    err,
    h("div", { className: "buttons" },
      h("button", { type: "submit", id: "view-save" }, view ? "Save" : "Create view"),
      h("button", { type: "button", onclick: cancel }, "Cancel")));
  // the API's last refusal stays until the user changes something
  form.addEventListener("input", () => { err.textContent = ""; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const val = (id) => form.querySelector("#" + id).value;
    const body = {
      name: val("vf-name").trim(),
      filter: {
        layers: [...form.querySelectorAll('input[name="vf-layer"]:checked')].map((c) => c.value),
        types: splitList(val("vf-types")),
        labels: splitList(val("vf-labels"), /,/),
        accounts: splitList(val("vf-accounts")),
        regions: splitList(val("vf-regions")),
        name: val("vf-match").trim(),
      },
    };
    err.textContent = "";
    try {
      const v = view ? await send("PUT", "/api/views/" + encodeURIComponent(view.id), body)
        : await send("POST", "/api/views", body);
      saved(v);
    } catch (e2) {
      err.textContent = e2.message;
    }
  });
  return form;
}

// remove deletes a user's view.
export function remove(view) {
  return send("DELETE", "/api/views/" + encodeURIComponent(view.id));
}
