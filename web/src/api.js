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
  return answer(await fetch(url, { headers: { Accept: "application/json" } }));
}

// post sends body as JSON to path and returns the answer as JSON.
export async function post(path, body) {
  return answer(await fetch(path, { method: "POST", headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body) }));
}

// answer is the JSON body of resp, or an ApiError when it failed.
async function answer(resp) {
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
