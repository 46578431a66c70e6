// The API as the map calls it: the party's token from this tab's session storage only (never
// localStorage, never a cookie: closing the tab logs out), the reader's language on every call
// so that the register's messages come rendered in it.
const TOKEN_KEY = "truceline.token";
let language = "en";

export function setLanguage(tag) { language = tag; }
export function token() { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { "Accept-Language": language };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await answer.text();
  const data = text ? JSON.parse(text) : null;
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

// The pages' texts from the catalogues: {language, dir, texts}.
export async function loadTexts(tag) {
  const query = tag ? `?language=${encodeURIComponent(tag)}` : "";
  const answer = await fetch(`/texts${query}`);
  if (!answer.ok) throw new ApiError(answer.status, await answer.json());
  return answer.json();
}
