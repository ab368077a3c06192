// A co-located reader of an mcprt server's shared result cache, in plain Node.js (ESM, no build step, no
// native add-on): positional reads of /dev/shm/<name> with fs.readSync, following the seqlock protocol of
// ipc/CACHE.md. Needs Node >= 20.15 / 22.2 (zlib.crc32).
//
//   import { CacheReader } from "./cache-reader.mjs";
//   const reader = CacheReader.forPort(8000);      // the server of `mcprt serve --http 127.0.0.1:8000`
//   const bytes = reader.get("test://static-text"); // Buffer (resources/read result JSON) or null
//   reader.search("read a file");                    // a repeated search_tools result, or null

import fs from "node:fs";
import zlib from "node:zlib";

const MAGIC = "MCPRTSHM";
const LAYOUT_VERSION = 1;
const KIND_CACHE = 4;
const HEADER_SIZE = 64;
const WAYS = 8;
const BUCKET_SIZE = 320;
const BUCKET_HEAD_SIZE = 64;
const ENTRY_SIZE = 32;
const RECORD_SIZE = 24;
const SHARD_HEADER_SIZE = 128;
const LANES = 65;
const KEY_MAX = 4096;
const STATE_OPEN = 1;
const SPINS = 10000;
const GENERATIONS = 8; // the server takes /mcprt-<uid>-<port>.<g>-cache when another user squats the name
// Values remembered by (offset, version) of their index entry, so that a repeated get skips reading them again
// (a record at an offset is never rewritten while an entry points to it, and versions only grow: ipc/CACHE.md).
const MEMO_ENTRIES = 256;
const MEMO_VALUE_MAX = 65536;

export class CacheError extends Error {}

/** The key of a stored search_tools (search_resources, search_prompts) result: ipc/search_keys.py. */
export function searchKey(query, limit = 5, kind = "tools") {
  return `s:${kind}:${limit}:${query}`;
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/** Every name the cache of the server on `port` may have, in the order the server claims them. */
export function namesForPort(port) {
  const base = `/mcprt-${process.getuid()}-${port}`;
  const names = [`${base}-cache`];
  for (let g = 1; g < GENERATIONS; g++) names.push(`${base}.${g}-cache`);
  return names;
}

export class CacheReader {
  /** name: the POSIX shm name, e.g. "/mcprt-1000-8000-cache", or a list of them (the first live one of ours). */
  constructor(name, { recheckMs = 500 } = {}) {
    this.names = Array.isArray(name) ? [...name] : [name];
    this.name = this.names[0];
    this.recheckMs = recheckMs;
    this.fd = -1;
    this.nextCheck = 0;
    this.retries = 0; // reads retried because an entry changed under them
    this.error = null;
    this.bucket = Buffer.alloc(BUCKET_SIZE);
    this.word = Buffer.alloc(8);
    this.memo = new Map(); // key -> { off, version, vlen, value }
    this.attach(true);
  }

  static forPort(port, options) {
    return new CacheReader(namesForPort(port), options);
  }

  /** Attach to the first of `names` that is ours, open and whose creator lives. */
  attach(strict = false) {
    const problems = [];
    for (const name of this.names) {
      const problem = this.attachName(name);
      if (problem === null) {
        this.name = name;
        this.error = null;
        return true;
      }
      problems.push(problem);
    }
    // the usual name's problem, unless a later one tells more than "no such segment"
    const told = problems.filter((p) => !p.endsWith("no such segment"));
    this.error = (told.length ? told : problems)[0];
    if (strict) throw new CacheError(this.error);
    return false;
  }

  /** null when attached to `name`, else why not. */
  attachName(name) {
    let fd;
    try {
      // O_NOFOLLOW: a symlink planted under our name is not followed; O_NONBLOCK: nor a FIFO waited on
      fd = fs.openSync("/dev/shm/" + name.replace(/^\//, ""), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (err) {
      return err.code === "EACCES"
        ? `${name}: permission denied (segments are private to their owner)`
        : `${name}: no such segment`;
    }
    try {
      // checked on the open descriptor: another user may create a file of our name in /dev/shm first
      const st = fs.fstatSync(fd);
      if (st.uid !== process.geteuid()) throw new CacheError(`${name}: owned by uid ${st.uid}, not by this user; not trusted`);
      if ((st.mode & 0o077) !== 0) {
        throw new CacheError(`${name}: mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}, not 0600; not trusted`);
      }
      if (!st.isFile()) throw new CacheError(`${name}: not a regular file`);
      this.name = name;
      this.readLayout(fd);
      this.fd = fd;
      this.memo = new Map(); // offsets and versions are one segment's
      if (this.closedByOwner() || !pidAlive(this.creatorPid)) throw new CacheError(`${name}: the server stopped`);
    } catch (err) {
      fs.closeSync(fd);
      this.fd = -1;
      return err.message;
    }
    return null;
  }

  readLayout(fd) {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(HEADER_SIZE + 64);
    if (size < head.length || fs.readSync(fd, head, 0, head.length, 0) !== head.length) {
      throw new CacheError(`${this.name}: too small for an mcprt cache segment`);
    }
    if (head.toString("latin1", 0, 8) !== MAGIC) throw new CacheError(`${this.name}: not an mcprt segment (bad magic)`);
    const version = head.readUInt16LE(8);
    if (version !== LAYOUT_VERSION) throw new CacheError(`${this.name}: layout version ${version}, this reader knows 1`);
    if (head.readUInt16LE(10) !== KIND_CACHE) throw new CacheError(`${this.name}: not a cache segment`);
    if (Number(head.readBigUInt64LE(16)) !== size) throw new CacheError(`${this.name}: sizes do not match`);
    this.creatorPid = head.readUInt32LE(24);
    const c = HEADER_SIZE;
    const shards = head.readUInt32LE(c);
    const buckets = head.readUInt32LE(c + 4);
    const arena = Number(head.readBigUInt64LE(c + 16));
    const shardsAt = Number(head.readBigUInt64LE(c + 40));
    const stride = Number(head.readBigUInt64LE(c + 48));
    const lanesAt = Number(head.readBigUInt64LE(c + 56));
    const ok =
      head.readUInt32LE(c + 8) === WAYS &&
      head.readUInt32LE(c + 12) === BUCKET_SIZE &&
      head.readUInt32LE(c + 24) === SHARD_HEADER_SIZE &&
      head.readUInt32LE(c + 32) === LANES &&
      head.readUInt32LE(c + 36) === KEY_MAX &&
      shards >= 1 && shards <= 256 && buckets >= 1 && arena >= 4096 && arena % 8 === 0 &&
      stride === SHARD_HEADER_SIZE + buckets * BUCKET_SIZE + arena &&
      lanesAt + LANES * 32 <= shardsAt &&
      shardsAt + shards * stride === size;
    if (!ok) throw new CacheError(`${this.name}: the cache header is corrupt or of another layout`);
    Object.assign(this, { shards, buckets, arena, shardsAt, stride, size });
  }

  /** Whether the server that owns the segment still runs it; reattaches (at most every recheckMs) if not. */
  alive() {
    const now = Date.now();
    if (this.fd >= 0 && now < this.nextCheck) return true;
    this.nextCheck = now + this.recheckMs;
    if (this.fd >= 0) {
      if (!this.closedByOwner() && pidAlive(this.creatorPid)) return true;
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    return this.attach();
  }

  closedByOwner() {
    fs.readSync(this.fd, this.word, 0, 4, HEADER_SIZE + 28);
    return this.word.readUInt32LE(0) !== STATE_OPEN;
  }

  /** The cached resources/read result of `uri` (a Buffer of JSON), or null. */
  get(uri) {
    return this.getKey("r:" + uri);
  }

  /** The stored search_tools result for exactly `query` and `limit` (a Buffer of JSON), or null. */
  search(query, { limit = 5, kind = "tools", view = false } = {}) {
    return this.getKey(searchKey(query, limit, kind), { view });
  }

  scratch(n) {
    if (!this.buffer || this.buffer.length < n) this.buffer = Buffer.allocUnsafe(Math.max(n, 65536));
    return this.buffer;
  }

  /** options.view: return a view of an internal buffer, valid until the next call (no allocation).
   *  options.onRead(attempt): called after the value was copied, before the counter is checked (tests). */
  getKey(key, options = {}) {
    if (!this.alive()) return null;
    const kb = Buffer.from(key, "utf8");
    const h = zlib.crc32(kb) >>> 0;
    const tag = h === 0 ? 1 : h;
    const shard = h % this.shards;
    const shardAt = this.shardsAt + shard * this.stride;
    const bucketAt = shardAt + SHARD_HEADER_SIZE + (Math.floor(h / this.shards) % this.buckets) * BUCKET_SIZE;
    const lo = shardAt + SHARD_HEADER_SIZE + this.buckets * BUCKET_SIZE;
    const hi = lo + this.arena;
    const b = this.bucket;
    for (let attempt = 0; attempt < SPINS; attempt++) {
      fs.readSync(this.fd, b, 0, BUCKET_SIZE, bucketAt); // counter, tags and entries in one read
      const seq = b.readUInt32LE(0);
      if (seq & 1) continue;
      let found = null;
      let expires = 0;
      let remember = null;
      for (let way = 0; way < WAYS && found === null; way++) {
        if (b.readUInt32LE(8 + 4 * way) !== tag) continue;
        const e = BUCKET_HEAD_SIZE + way * ENTRY_SIZE;
        const off = Number(b.readBigUInt64LE(e));
        const vlen = b.readUInt32LE(e + 8);
        const klen = b.readUInt16LE(e + 12);
        if (klen !== kb.length || off < lo || off + RECORD_SIZE + klen + vlen > hi) continue;
        const version = b.readBigUInt64LE(e + 24);
        const memo = this.memo.get(key);
        if (memo !== undefined && memo.off === off && memo.version === version && memo.vlen === vlen) {
          // The same record as last time: its bytes cannot have changed, and nothing else was read from
          // the segment, so the counter's second read is not needed (ipc/CACHE.md, Reading).
          const expiresAt = b.readDoubleLE(e + 16);
          if (expiresAt !== 0 && expiresAt * 1000 <= Date.now()) return null;
          return options.view ? memo.value : Buffer.from(memo.value);
        }
        // view: read into a reused buffer (no allocation, no GC pause: what a 64 KiB read's P99 is made of)
        const record = options.view ? this.scratch(klen + vlen) : Buffer.allocUnsafe(klen + vlen);
        fs.readSync(this.fd, record, 0, klen + vlen, off + RECORD_SIZE);
        if (record.compare(kb, 0, klen, 0, klen) !== 0) continue;
        found = record.subarray(klen, klen + vlen);
        expires = b.readDoubleLE(e + 16);
        remember = vlen <= MEMO_VALUE_MAX ? { off, version, vlen } : null;
      }
      if (options.onRead) options.onRead(attempt);
      fs.readSync(this.fd, this.word, 0, 4, bucketAt);
      if (this.word.readUInt32LE(0) !== seq) {
        this.retries++;
        continue; // changed while we read: read again
      }
      if (found !== null && expires !== 0 && expires * 1000 <= Date.now()) return null;
      if (remember !== null) this.remember(key, remember, found);
      return found;
    }
    return null; // a writer died mid-write: a miss until the next writer repairs the shard
  }

  /** Keep a verified value (a copy: `found` may be a view of the scratch buffer), the oldest out first. */
  remember(key, where, found) {
    if (this.memo.size >= MEMO_ENTRIES && !this.memo.has(key)) this.memo.delete(this.memo.keys().next().value);
    this.memo.set(key, { ...where, value: Buffer.from(found) });
  }

  close() {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
