// The device's own store (IndexedDB): the login and the reports with their receipts.
//
// Why IndexedDB, and not the session: an observer logs in once, where there is a link, and
// files later, maybe days later, in the field with the browser closed in between. The token,
// the pinned log key and every queued report must survive a closed tab, a reload and a
// restart, and must never need the server to be read again. (IndexedDB rather than
// localStorage: the reports and receipts are structured, and the worker can read it too.)
// The token stays in this origin's storage on this device only; "Log out" deletes it.

const DB_NAME = "truceline-observe";
const DB_VERSION = 1;

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("settings"); // key -> value: login
      db.createObjectStore("reports", { keyPath: "instance_id" }); // one per report, by instance_id
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let opened = null;
const database = () => (opened ??= open());

async function run(storeName, mode, action) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const request = action(transaction.objectStore(storeName));
    transaction.oncomplete = () => resolve(request ? request.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const getSetting = (key) => run("settings", "readonly", (s) => s.get(key));
export const putSetting = (key, value) => run("settings", "readwrite", (s) => s.put(value, key));
export const deleteSetting = (key) => run("settings", "readwrite", (s) => s.delete(key));

/** Every report on the device, oldest first (by the time it was filled in). */
export async function allReports() {
  const reports = await run("reports", "readonly", (s) => s.getAll());
  return reports.sort((a, b) => a.created_ms - b.created_ms);
}

export const getReport = (instanceId) => run("reports", "readonly", (s) => s.get(instanceId));
export const putReport = (report) => run("reports", "readwrite", (s) => s.put(report));
