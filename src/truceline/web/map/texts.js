// The page's texts in the reader's language, from GET /texts (the catalogues): every visible
// text of the page is an element with data-text="<id>" or goes through t(id, params).
import { loadTexts, setLanguage } from "/web/map/api.js";

let current = { language: "en", dir: "ltr", texts: {} };

export function t(id, params = {}) {
  const text = current.texts[id] ?? id;  // an id shows where a text is missing
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function language() { return current.language; }
export function direction() { return current.dir; }

// Load one language's texts (none: the browser's, by Accept-Language) and lay the page out
// for it: lang and dir on <html>, every data-text element filled.
export async function useLanguage(tag) {
  current = await loadTexts(tag);
  setLanguage(current.language);
  document.documentElement.lang = current.language;
  document.documentElement.dir = current.dir;
  document.title = t("map.title");
  for (const element of document.querySelectorAll("[data-text]")) {
    element.textContent = t(element.dataset.text);
  }
  document.body.dataset.language = current.language;
  return current;
}
