// The device's own store (IndexedDB): the login and the reports with their receipts.
//
// Why IndexedDB, and not the session: an observer logs in once, where there is a link, and
// files later, maybe days later, in the field with the browser closed in between. The token,
// the pinned log key and every queued report must survive a closed tab, a reload and a
// restart, and must never need the server to be read again. (IndexedDB rather than
// localStorage: the reports and receipts are structured, and the worker can read it too.)
// The token stays in this origin's storage on this device only; "Log out" deletes it.
//
// Read by two: the page imports this file as a module (`import "/web/observe/store.js"`), the
// service worker loads it with importScripts (a classic worker: Firefox before 147 cannot run
// a module worker, and the worker is what opens the page offline). So it has no `export`: it
// puts its functions on the global object as `self.trucelineStore`.
(() => {
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

  const getSetting = (key) => run("settings", "readonly", (s) => s.get(key));
  const putSetting = (key, value) => run("settings", "readwrite", (s) => s.put(value, key));
  const deleteSetting = (key) => run("settings", "readwrite", (s) => s.delete(key));

  /** Every report on the device, oldest first (by the time it was filled in). */
  async function allReports() {
    const reports = await run("reports", "readonly", (s) => s.getAll());
    return reports.sort((a, b) => a.created_ms - b.created_ms);
  }

  const getReport = (instanceId) => run("reports", "readonly", (s) => s.get(instanceId));
  const putReport = (report) => run("reports", "readwrite", (s) => s.put(report));

  /**
   * Apply `change` to a report only if its state is still one of `from`, read and written in
   * one transaction. The page and the worker may both work on a report, each from its own copy:
   * a plain put of a stale copy could step a report back (verified to sent). IndexedDB runs
   * readwrite transactions on a store one at a time, across the page and the worker, so the
   * check and the write cannot be split. Resolves to true when the report was changed.
   */
  async function advance(instanceId, from, change) {
    const db = await database();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction("reports", "readwrite");
      const reports = transaction.objectStore("reports");
      let changed = false;
      const read = reports.get(instanceId);
      read.onsuccess = () => {
        const report = read.result;
        if (report === undefined || !from.includes(report.state)) return;
        reports.put({ ...report, ...change });
        changed = true;
      };
      transaction.oncomplete = () => resolve(changed);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  self.trucelineStore = Object.freeze({
    getSetting, putSetting, deleteSetting, allReports, getReport, putReport, advance,
  });
})();
