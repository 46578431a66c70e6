// Receipts checked on the device, with WebCrypto alone (SHA-256 and Ed25519), as
// `truceline log verify-receipt` checks them (ledger/receipts.py verify_receipt):
//   1. the tree head is signed by the pinned log key (Ed25519 over the RFC 8785 JSON of
//      {"root_hash", "timestamp", "tree_size"}: ledger/sth.py), for the receipt's tree size;
//   2. the entry hashes to the leaf (RFC 9162: SHA-256(0x00 || entry));
//   3. the inclusion path leads from the leaf to the signed root (RFC 9162 2.1.3.2);
//   4. the entry is the one at leaf_index, and is the report's incident.reported entry;
//   5. the log's own signature on the entry (log_signature, over the entry without it).
// Each failure is a Fault whose `code` names the step, so the page says which in its language.

const RECEIPT_FORMAT = "truceline-receipt/1";

export class Fault extends Error {
  constructor(code, detail) {
    super(`${code}: ${detail}`);
    this.code = code; // format | key | signature | leaf | path | entry | log_signature
    this.detail = detail;
  }
}

const encoder = new TextEncoder();

export function b64decode(text, size, field) {
  // Strict standard base64 with padding, as ledger/canonical.py reads it.
  if (typeof text !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new Fault("format", `${field} is not base64`);
  }
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (size !== undefined && bytes.length !== size) {
    throw new Fault("format", `${field} has ${bytes.length} bytes, want ${size}`);
  }
  if (btoa(binary) !== text) throw new Fault("format", `${field} is not canonical base64`);
  return bytes;
}

export function b64encode(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(...parts) {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

export const leafHash = (entry) => sha256(Uint8Array.of(0), entry);
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** How a log key is named to people (ledger/keys.py fingerprint). */
export async function fingerprint(rawKey) {
  return "sha256:" + hex(await sha256(rawKey)).slice(0, 32);
}

/** The root an audit path leads to (RFC 9162 2.1.3.2). Requires 0 <= index < size. */
export async function rootFromInclusionProof(leaf, index, size, path) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new Fault("path", `requires 0 <= leaf_index < tree_size, got ${index}, ${size}`);
  }
  // Numbers, not 32-bit ints: a log may outgrow 2**31 entries; halving by Math.floor is exact.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) throw new Fault("path", `the path has ${path.length} hashes, more than the tree needs`);
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn !== 0 && fn % 2 === 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Fault("path", `the path has ${path.length} hashes, fewer than the tree needs`);
  return r;
}

async function ed25519Verify(rawKey, signature, message) {
  const key = await crypto.subtle.importKey("raw", rawKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

function integer(value, field) {
  if (!Number.isSafeInteger(value) || value < 0) throw new Fault("format", `${field} must be a whole number`);
  return value;
}

// The entry's canonical JSON (RFC 8785) puts "author" first and "log_signature" second, and an
// author is plain ASCII (ledger/entries.py AUTHOR_PATTERN): what the log signed is the same
// bytes with that one member removed (entries.py envelope() without log_signature).
const ENTRY_HEAD = /^\{"author":"([A-Za-z0-9._:@-]{1,200})","log_signature":"([A-Za-z0-9+/]{86}==)",/;

/**
 * Check `receipt` (the JSON object the server answered) against `pinnedKey` (base64 of the raw
 * log key, pinned at login). `instanceId`, when given, must be the report's instance_id.
 * Returns {leafIndex, treeSize, fingerprint, entryType, instanceId}; throws a Fault.
 */
export async function verifyReceipt(receipt, pinnedKey, instanceId) {
  if (receipt === null || typeof receipt !== "object" || receipt.format !== RECEIPT_FORMAT) {
    throw new Fault("format", `not a ${RECEIPT_FORMAT}`);
  }
  const { entry, sth } = receipt;
  if (typeof entry !== "string" || sth === null || typeof sth !== "object") {
    throw new Fault("format", "a receipt holds its entry and its tree head");
  }
  const leafIndex = integer(receipt.leaf_index, "leaf_index");
  const treeSize = integer(receipt.tree_size, "tree_size");
  const path = Array.isArray(receipt.inclusion_path) ? receipt.inclusion_path : null;
  if (path === null) throw new Fault("format", "inclusion_path must be a list");
  const pathHashes = path.map((h, i) => b64decode(h, 32, `inclusion_path[${i}]`));
  const leaf = b64decode(receipt.leaf_hash, 32, "leaf_hash");

  // 1. The tree head: the pinned key, its signature, this tree.
  const key = b64decode(pinnedKey, 32, "pinned key");
  const headKey = b64decode(sth.public_key, 32, "sth.public_key");
  if (!equal(key, headKey)) {
    throw new Fault("key", `signed by ${await fingerprint(headKey)}, pinned ${await fingerprint(key)}`);
  }
  const root = b64decode(sth.root_hash, 32, "sth.root_hash");
  const signed = `{"root_hash":"${sth.root_hash}","timestamp":${integer(sth.timestamp, "sth.timestamp")},` +
    `"tree_size":${integer(sth.tree_size, "sth.tree_size")}}`;
  if (!(await ed25519Verify(key, b64decode(sth.signature, 64, "sth.signature"), encoder.encode(signed)))) {
    throw new Fault("signature", "the tree head's signature does not verify");
  }
  if (sth.tree_size !== treeSize) throw new Fault("format", `the tree head is for ${sth.tree_size} entries`);
  if (receipt.root_hash !== undefined && receipt.root_hash !== sth.root_hash) {
    throw new Fault("format", "root_hash differs from the signed tree head's");
  }

  // 2. The entry's bytes hash to the leaf.
  const entryBytes = encoder.encode(entry);
  if (!equal(await leafHash(entryBytes), leaf)) throw new Fault("leaf", "the entry does not hash to leaf_hash");

  // 3. The path from the leaf to the signed root.
  const computed = await rootFromInclusionProof(leaf, leafIndex, treeSize, pathHashes);
  if (!equal(computed, root)) {
    throw new Fault("path", `the path leads to ${hex(computed)}, signed ${hex(root)}`);
  }

  // 4. The entry is the one at leaf_index, the report's.
  let parsed;
  try {
    parsed = JSON.parse(entry);
  } catch {
    throw new Fault("entry", "the entry is not JSON");
  }
  if (parsed.seq !== leafIndex) throw new Fault("entry", `the entry says ${parsed.seq}, the proof ${leafIndex}`);
  const reported = parsed.payload && parsed.payload.report ? parsed.payload.report.instance_id : undefined;
  if (parsed.type !== "incident.reported" || (instanceId !== undefined && reported !== instanceId)) {
    throw new Fault("entry", `the entry is ${parsed.type} of ${reported}, not this report`);
  }

  // 5. The log's signature on the entry.
  const head = ENTRY_HEAD.exec(entry);
  if (head === null) throw new Fault("log_signature", "the entry does not begin with author and log_signature");
  const unsigned = `{"author":"${head[1]}",` + entry.slice(head[0].length);
  if (!(await ed25519Verify(key, b64decode(head[2], 64, "log_signature"), encoder.encode(unsigned)))) {
    throw new Fault("log_signature", "the log's signature on the entry does not verify");
  }
  return { leafIndex, treeSize, fingerprint: await fingerprint(key), entryType: parsed.type, instanceId: reported };
}
