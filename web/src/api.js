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
  return request(path + (q.toString() ? "?" + q : ""), { headers: { Accept: "application/json" } });
}

// send sends body as JSON with method to path and returns the JSON answer.
export function send(method, path, body) {
  return request(path, {
    method,
    headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// request fetches url and returns its JSON body, or throws an ApiError
// with the API's code and message.
async function request(url, init) {
  const resp = await fetch(url, init);
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
