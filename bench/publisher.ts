import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { connectNats } from '../src/bus/nats.ts';
import { publishAll, runChild } from './services.ts';

/**
 * Publishes from a process of its own, as real senders do: in the benchmark's process the publishes' own CPU
 * (a request object, an error for its stack and a timer each) would be counted as the correlator's, and take the
 * core it runs on. The child reads one batch of payloads per file (JSON lines), publishes each batch with
 * `inFlight` publishes outstanding, in order, and prints when it began publishing (connected, files read) and when
 * JetStream acknowledged the last of each batch, in ms since the epoch.
 */
export function publishInChild(request: { natsUrl: string; subject: string; batches: { file: string; inFlight: number }[] }): Promise<{ startedAt: number; acknowledgedAt: number[] }> {
  return runChild(import.meta.url, PUBLISH_ENV, request, 'publishing');
}

const PUBLISH_ENV = 'FAULTLINE_BENCH_PUBLISH';

async function publish(request: Parameters<typeof publishInChild>[0]): Promise<void> {
  const nc = await connectNats(request.natsUrl, 'faultline-bench-publisher');
  const encoder = new TextEncoder();
  const batches = request.batches.map((batch) => ({
    inFlight: batch.inFlight,
    payloads: readFileSync(batch.file, 'utf8').split('\n').filter((line) => line.length > 0).map((line) => encoder.encode(line)),
  }));
  const startedAt = Date.now();
  const acknowledgedAt: number[] = [];
  try {
    for (const batch of batches) {
      await publishAll(nc, request.subject, batch.payloads, batch.inFlight);
      acknowledgedAt.push(Date.now());
    }
  } finally {
    await nc.close();
  }
  process.stdout.write(`${JSON.stringify({ startedAt, acknowledgedAt })}\n`);
}

if (process.env[PUBLISH_ENV] && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await publish(JSON.parse(process.env[PUBLISH_ENV]) as Parameters<typeof publishInChild>[0]);
}
