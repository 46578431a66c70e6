// Uploading the queued reports: the one routine that both the page (observe.js) and the service
// worker (sw.js, on Background Sync's `sync` event) run, so the two cannot drift apart.
//
// Each upload of a report sends the very same bytes with the same Idempotency-Key and
// instance_id, so a resend after a lost answer is harmless: the register answers the first
// answer again (docs/incidents.md "Exactly once"). The page and the worker may try at the same
// moment (the link returns with the page open): a Web Lock lets one run at a time, the other
// then finds nothing left queued; and every state is written with store.advance, so a stale
// copy never steps a report back. The receipt is kept here; it is checked in the page.
//
// The credentials: the token the page already keeps in IndexedDB (store.js, the "login"
// setting), read afresh on each run; the worker needs no copy of its own, and a "Log out" in
// the page stops the worker too.
//
// Loaded as store.js is (a module in the page, importScripts in the worker): no `export`, its
// functions are `self.trucelineUpload`. store.js must be loaded first.
(() => {
  const store = self.trucelineStore;
  const LOCK = "truceline-observe-upload";

  /** The problem+json of an answer as {status, detail} (detail prefixed with its field). */
  async function problemOf(answer) {
    try {
      const body = await answer.json();
      const field = body.field ? `${body.field}: ` : "";
      return { status: answer.status, detail: `${field}${body.detail ?? answer.statusText}` };
    } catch {
      return { status: answer.status, detail: `HTTP ${answer.status}` };
    }
  }

  /**
   * Post every queued report, oldest first, until all are done or one cannot go now.
   * Resolves to {outcome, detail}: "done" (nothing left queued that can go), "no-login",
   * "unauthorized" (a 401: kept queued for a new login; detail says why), "offline" (no link)
   * or "later" (the server's trouble). `changed` is awaited after each report's state moved.
   */
  async function uploadQueuedNow(changed) {
    const login = (await store.getSetting("login")) ?? null;
    if (login === null) return { outcome: "no-login" };
    for (const report of await store.allReports()) {
      if (report.state !== "queued") continue;
      let answer;
      try {
        answer = await fetch("/incidents", {
          method: "POST",
          headers: {
            Authorization: `Bearer ${login.token}`,
            "Content-Type": "application/json",
            "Idempotency-Key": report.instance_id,
          },
          body: report.body,
        });
      } catch {
        return { outcome: "offline" }; // everything stays queued until the next try
      }
      if (answer.status === 200 || answer.status === 201) {
        const incident = await answer.json();
        await store.advance(report.instance_id, ["queued"], {
          state: "sent", incident_id: incident.id, receipt: incident.receipt,
        });
      } else if (answer.status === 401) {
        return { outcome: "unauthorized", detail: (await problemOf(answer)).detail };
      } else if (answer.status >= 500 || answer.status === 408 || answer.status === 429) {
        return { outcome: "later" };
      } else {
        // The register will never take these bytes: say why, keep them.
        const fault = (await problemOf(answer)).detail;
        await store.advance(report.instance_id, ["queued"], { state: "refused", fault });
      }
      await changed();
    }
    return { outcome: "done" };
  }

  /** uploadQueuedNow, one run at a time across the page and the worker where Web Locks exist. */
  function uploadQueued(changed = async () => {}) {
    const locks = self.navigator.locks;
    if (locks === undefined) return uploadQueuedNow(changed);
    return locks.request(LOCK, () => uploadQueuedNow(changed));
  }

  self.trucelineUpload = Object.freeze({ uploadQueued, problemOf });
})();
