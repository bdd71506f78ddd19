// One fit measured in its own process (npm run bench): read a CSV into columns as training does,
// encode as the original analysis did, fit k-means with fixed restarts; prints the fit's wall and
// CPU time (this process, all threads), inertia and peak memory as JSON.

import { createReadStream } from 'node:fs';
import { readCustomerColumns } from '../../shared/csv/read-customers.ts';
import { applyScaler, encodeRaw, fitScaler } from '../../shared/features/encode.ts';
import { resolveFeatures } from '../../shared/features/spec.ts';
import { fitKMeans } from '../../shared/clustering/kmeans.ts';

const [path, k, restarts] = process.argv.slice(2);
const csv = await readCustomerColumns(createReadStream(path!));
const raw = encodeRaw(csv.columns, resolveFeatures());
const x = applyScaler(raw, fitScaler(raw, resolveFeatures()));
const start = performance.now();
const cpuStart = process.cpuUsage();
const fit = fitKMeans(x, Number(k), { seed: 0, restarts: Number(restarts) });
const cpu = process.cpuUsage(cpuStart);
const fitMs = performance.now() - start;
const result = {
  fit_ms: fitMs,
  fit_cpu_ms: (cpu.user + cpu.system) / 1000,
  inertia: fit.inertia,
  iterations: fit.iterations,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
