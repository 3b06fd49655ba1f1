// Preloaded into a server under test (`node --import <this file> …`) by the
// benches: answers IPC requests from the bench for the server's own memory
// figures and for heap snapshots, without touching the server's code.
// Plain JavaScript so the server still runs without a TypeScript loader.
//
//   → { probe: <id>, op: 'memory' }                 ← { probe, memory, heap, spaces }
//   → { probe: <id>, op: 'gc' }                     ← the same, after a full garbage collection
//   → { probe: <id>, op: 'snapshot', path: <file> } ← { probe, path, ms } once the file is complete
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A gc() without starting the server with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

if (process.send) {
  process.on('message', (m) => {
    if (!m || typeof m !== 'object' || typeof m.probe !== 'number') return;
    try {
      if (m.op === 'memory' || m.op === 'gc') {
        if (m.op === 'gc') gc();
        process.send({
          probe: m.probe,
          memory: process.memoryUsage(),
          heap: getHeapStatistics(),
          spaces: getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size })),
        });
      } else if (m.op === 'snapshot') {
        const t0 = performance.now();
        const path = writeHeapSnapshot(m.path);
        process.send({ probe: m.probe, path, ms: Math.round(performance.now() - t0) });
      } else {
        process.send({ probe: m.probe, error: `unknown op ${m.op}` });
      }
    } catch (err) {
      process.send({ probe: m.probe, error: String(err && err.stack ? err.stack : err) });
    }
  });
}
