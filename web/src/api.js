// api.js reads skymap's JSON API.

// ApiError is a failed API call: status, and the code and message of the
// API's {"error": {"code", "message"}} body.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// get fetches path (with the query params, empty ones left out) as JSON.
export async function get(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v != null && v !== "") q.set(k, v);
  }
  const url = path + (q.toString() ? "?" + q : "");
  const resp = await fetch(url, { headers: { Accept: "application/json" } });
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // not JSON: reported below by status
  }
  if (!resp.ok) {
    const e = (body && body.error) || {};
    throw new ApiError(resp.status, e.code || "http_" + resp.status, e.message || resp.statusText);
  }
  return body;
}

// componentPath is the API path of component id (any identifier).
export function componentPath(id) {
  return "/api/components/" + encodeURIComponent(id);
}

// send sends body as JSON with method to path and returns the JSON answer.
export async function send(method, path, body) {
  const resp = await fetch(path, {
    method,
    headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let out = null;
  try {
    out = await resp.json();
  } catch {
    // not JSON: reported below by status
  }
  if (!resp.ok) {
    const e = (out && out.error) || {};
    throw new ApiError(resp.status, e.code || "http_" + resp.status, e.message || resp.statusText);
  }
  return out;
}
