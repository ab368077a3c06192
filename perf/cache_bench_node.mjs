// The Node.js side of perf/cache_bench.py: P50/P99 of CacheReader.get, one JSON line per key and mode
// (a fresh Buffer per get, or {view: true}: a view of a reused buffer).
//   node perf/cache_bench_node.mjs NAME COUNT KEY...
import { CacheReader } from "../ipc/node/cache-reader.mjs";

const [name, count, ...keys] = process.argv.slice(2);
const reader = new CacheReader(name);
for (const [key, view] of keys.flatMap((k) => [[k, false], [k, true]])) {
  const n = Number(count);
  const times = new Float64Array(n);
  for (let i = 0; i < 2000; i++) reader.getKey(key, { view }); // warm-up (JIT)
  let misses = 0;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const value = reader.getKey(key, { view });
    times[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if (value === null) misses++;
  }
  times.sort();
  console.log(JSON.stringify({ key, view, p50_us: times[n >> 1], p99_us: times[Math.floor(n * 0.99)], misses }));
}
reader.close();
