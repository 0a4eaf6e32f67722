import { AckPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { STREAMS, SUBJECTS } from '../bus/layout.ts';
import type { Logger } from '../log.ts';
import { isNotFound } from './consumers.ts';
import { publishDeadLetter } from './dead-letter.ts';
import { outboxMessageSchema } from './notification.ts';
import { deadLetterOf } from './outbox.ts';

/** How long an outbox message may wait for a notifier that serves its channel before it is dead-lettered. */
export const ORPHAN_GRACE_MS = 10 * 60_000;

const SWEEP_BATCH = 100;

export interface SweepContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  clock: () => number;
  graceMs: number;
}

/**
 * Outbox messages on a subject that no consumer filters belong to a channel no running notifier has configured:
 * removed from the configuration while messages waited, or added to a correlator's configuration before any
 * notifier's. Left alone they would wait out the stream's 7 days and vanish. Those older than `graceMs` (time for
 * a notifier with the new configuration to start) are dead-lettered with the reason and removed; younger ones are
 * left for the next sweep. Returns how many were dead-lettered.
 */
export async function sweepOrphans(ctx: SweepContext): Promise<number> {
  const stream = STREAMS.outbox.name;
  const info = await ctx.jsm.streams.info(stream, { subjects_filter: SUBJECTS.outboxAll });
  const subjects = Object.keys(info.state.subjects ?? {});
  if (subjects.length === 0) return 0;
  const served = new Set<string>();
  for await (const consumer of ctx.jsm.consumers.list(stream)) {
    if (consumer.config.filter_subject) served.add(consumer.config.filter_subject);
  }
  let swept = 0;
  for (const subject of subjects) {
    if (!served.has(subject)) swept += await sweepSubject(ctx, subject);
  }
  return swept;
}

/**
 * A short-lived consumer of its own reads the subject in order, oldest first. While it exists the subject is taken
 * (one consumer per subject on a work queue): a notifier that starts meanwhile waits for it (consumers.ts), and a
 * second sweeper gives up on the subject.
 */
async function sweepSubject(ctx: SweepContext, subject: string): Promise<number> {
  const stream = STREAMS.outbox.name;
  let name: string;
  try {
    ({ name } = await ctx.jsm.consumers.add(stream, {
      ack_policy: AckPolicy.Explicit,
      filter_subject: subject,
      ack_wait: nanos(30_000),
      inactive_threshold: nanos(30_000),
    }));
  } catch (err) {
    ctx.log.debug({ err, subject }, 'orphan sweep: subject taken meanwhile');
    return 0;
  }
  let swept = 0;
  try {
    const consumer = await ctx.js.consumers.get(stream, name);
    const cutoff = ctx.clock() - ctx.graceMs;
    for (let more = true; more; ) {
      const batch = await consumer.fetch({ max_messages: SWEEP_BATCH, expires: 1_000 });
      let read = 0;
      more = false;
      for await (const msg of batch) {
        read++;
        if (msg.info.timestampNanos / 1e6 > cutoff) break; // the rest are younger still
        await deadLetter(ctx, msg, subject);
        swept++;
        if (read === SWEEP_BATCH) more = true;
      }
    }
  } finally {
    // What was read but not dead-lettered goes back to the stream with the consumer.
    await ctx.jsm.consumers.delete(stream, name).catch((err: unknown) => {
      if (!isNotFound(err)) ctx.log.warn({ err, subject }, 'orphan sweep: its consumer was not removed; the server drops it after 30 s');
    });
  }
  if (swept > 0) ctx.log.error({ subject, count: swept }, 'outbox messages no notifier serves were dead-lettered');
  return swept;
}

/** A valid outbox message is dead-lettered with its notification; anything else with its payload, as the notifier does. */
async function deadLetter(ctx: SweepContext, msg: JsMsg, subject: string): Promise<void> {
  let json: unknown;
  try {
    json = msg.json();
  } catch {
    // Not JSON: kept as the payload below.
  }
  const parsed = outboxMessageSchema.safeParse(json);
  const channel = parsed.success ? parsed.data.channel : channelOfSubject(subject);
  const dead = parsed.success ? deadLetterOf(parsed.data) : { kept: { payload: msg.string(), channel }, id: `outbox-seq-${msg.info.streamSequence}` };
  const reason = `no running notifier has channel "${channel}" configured`;
  await publishDeadLetter(ctx.js, { reason, ...dead.kept, receivedAt: new Date(ctx.clock()).toISOString() }, dead.id);
  await msg.ackAck();
}

/** The channel name a subject token stands for (layout.ts writes each byte outside `[A-Za-z0-9_-]` as `%XX`). */
function channelOfSubject(subject: string): string {
  const token = subject.slice(SUBJECTS.outbox('').length);
  try {
    return decodeURIComponent(token);
  } catch {
    return token;
  }
}
