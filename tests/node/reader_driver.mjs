// Drives ipc/node/cache-reader.mjs for tests/test_cache_node.py. One JSON line per result on stdout.
//   get NAME KEY...          the values (base64, null on a miss)
//   torn NAME KEY            read KEY; between the copy and the counter check, print "change" and wait
//                            for a line on stdin (the test changes the entry meanwhile)
//   hammer NAME SECONDS KEY...  read the keys in a loop; each value is crc32(payload) (u32 LE) + payload
import fs from "node:fs";
import zlib from "node:zlib";
import { CacheReader } from "../../ipc/node/cache-reader.mjs";

const [mode, name, ...rest] = process.argv.slice(2);
const reader = new CacheReader(name);
const out = (value) => fs.writeSync(1, JSON.stringify(value) + "\n");

if (mode === "get") {
  out(rest.map((key) => {
    const value = reader.getKey(key);
    return value === null ? null : value.toString("base64");
  }));
} else if (mode === "torn") {
  const value = reader.getKey(rest[0], {
    onRead(attempt) {
      if (attempt !== 0) return;
      fs.writeSync(1, "change\n");
      const buf = Buffer.alloc(16);
      fs.readSync(0, buf, 0, 16, null); // blocks until the test answers
    },
  });
  out({ value: value === null ? null : value.toString("base64"), retries: reader.retries });
} else if (mode === "hammer") {
  const until = Date.now() + Number(rest[0]) * 1000;
  const keys = rest.slice(1);
  let ok = 0, bad = 0, miss = 0;
  while (Date.now() < until) {
    for (const key of keys) {
      const value = reader.getKey(key);
      if (value === null) miss++;
      else if (value.length >= 4 && value.readUInt32LE(0) === (zlib.crc32(value.subarray(4)) >>> 0)) ok++;
      else bad++;
    }
  }
  out({ ok, bad, miss, retries: reader.retries });
} else {
  throw new Error(`unknown mode ${mode}`);
}
reader.close();
