import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import { publishEvent } from '../../src/bus/publish-event.ts';
import { Kvm } from '@nats-io/kv';
import { KV_BUCKETS } from '../../src/bus/layout.ts';
import { alertKey, type AlertRecord } from '../../src/correlator/alert.ts';
import { Correlator, CONSUMER } from '../../src/correlator/correlator.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { startNotifier, type Notifier } from '../../src/notify/notifier.ts';
import type { Notification } from '../../src/notify/notification.ts';
import { startCollector, type Collector } from '../notify/collector.ts';
import { startCli } from '../support/cli.ts';
import { silentLog, testEnv } from '../support/services.ts';
import { correlatorConfig, estate, freshBus, sleep, until } from './harness.ts';
import { CorrelationView } from '../../src/correlator/view.ts';

/**
 * Design section 10 and the "Done when": several correlators share the work without double pages, and a
 * correlator killed (SIGKILL) in a burst loses no event, repeats no notification, and decides nothing before its
 * state and topology are loaded.
 */
/** `promise`, or an error naming the step when it takes longer than `ms`: a step that hangs says which it was. */
async function within<T>(ms: number, step: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${step}: not done within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const dedupKeys = (hook: Collector) => (hook.bodies() as unknown as Notification[]).map((n) => n.dedupKey);
const duplicates = (keys: string[]) => keys.filter((k, i) => keys.indexOf(k) !== i);

async function drained(nats: NatsConnection): Promise<boolean> {
  const info = await (await jetstreamManager(nats)).consumers.info('FAULTLINE_EVENTS', CONSUMER);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

describe('correlators sharing the work, and surviving SIGKILL', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let nats: NatsConnection;
  let hook: Collector;
  let notifier: Notifier;

  beforeAll(async () => {
    ({ driver, topology } = await estate());
  });
  afterEach(async () => {
    await notifier?.stop();
    await hook?.close();
    await nats?.close();
  });
  afterAll(async () => {
    await driver?.close();
  });

  it('two correlator processes share the consumer: every event handled once, no double page', async () => {
    nats = await freshBus();
    hook = await startCollector();
    const config = correlatorConfig(hook.url);
    notifier = await startNotifier({ config, log: silentLog, nats, retryBaseMs: 50 });
    const second = await connectNats(inject('natsUrl'), 'second');
    const a = await Correlator.start({ config, log: silentLog, nats, topology, instance: 'a' });
    const b = await Correlator.start({ config, log: silentLog, nats: second, topology, instance: 'b' });
    try {
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) sends.push(publishEvent(nats, { host: `batch${i % 20}.example.net`, check: `c${i % 7}`, status: i % 3 === 0 ? 'ok' : 'warning' }, { source: 'test' }));
      sends.push(publishEvent(nats, { host: 'mail1.example.com', check: 'mailq', status: 'critical' }, { source: 'test' }));
      sends.push(publishEvent(nats, { host: 'mail2.example.com', check: 'mailq', status: 'critical' }, { source: 'test' }));
      sends.push(publishEvent(nats, { host: 'log1.example.com', check: 'dns', status: 'critical' }, { source: 'test' }));
      await Promise.all(sends);
      await until('the DNS incident in both views', () =>
        [a, b].every((c) => [...c.view.incidents.values()].some((e) => e.value.root.includes('log1.example.com::Service[unbound]'))),
      );
      await sleep(1_500);
      expect(a.stats.events + b.stats.events).toBe(203);
      expect(a.stats.events).toBeGreaterThan(0);
      expect(b.stats.events).toBeGreaterThan(0);
      expect([a.leader, b.leader].filter(Boolean)).toHaveLength(1);
      const keys = dedupKeys(hook);
      expect(duplicates(keys)).toEqual([]);
      expect((hook.bodies() as unknown as Notification[]).filter((n) => n.kind === 'page').map((n) => n.team)).toEqual(['team:netops']);
      // Both views agree on every alert.
      expect(a.view.alerts.size).toBe(b.view.alerts.size);
    } finally {
      await a.stop();
      await b.stop();
      await second.close();
    }
  });

  it("another correlator's write under a refresh kept in memory: the refresh is applied over it, not lost", async () => {
    nats = await freshBus();
    hook = await startCollector();
    const config = correlatorConfig(hook.url);
    notifier = await startNotifier({ config, log: silentLog, nats, retryBaseMs: 50 });
    // Refreshes are stored only when it stops: the one below stays in memory while the other write lands.
    const a = await Correlator.start({ config, log: silentLog, nats, topology, instance: 'a', refreshPersistMs: 60_000 });
    try {
      const key = alertKey('web1.example.com/http');
      const t0 = Date.now() - 60_000;
      const at = (ms: number) => new Date(t0 + ms).toISOString();
      await publishEvent(nats, { host: 'web1.example.com', check: 'http', status: 'critical', time: at(0) }, { source: 'test' });
      const stored = await until('the alert stored', () => a.view.alerts.get(key));
      await publishEvent(nats, { host: 'web1.example.com', check: 'http', status: 'critical', time: at(2_000) }, { source: 'test' });
      await until('the refresh kept in memory', () => a.view.alerts.get(key)?.value.time === t0 + 2_000);
      expect(a.view.alerts.get(key)?.revision).toBe(stored.revision);

      // Another correlator got an older event, which said ok, and stored it first.
      const kv = await new Kvm(nats).open(KV_BUCKETS.alerts);
      const theirs = { ...stored.value, status: 'ok', since: t0 + 1_000, time: t0 + 1_000, seq: stored.value.seq + 1, changes: [t0, t0 + 1_000] };
      const revision = await kv.update(key, JSON.stringify(theirs), stored.revision);

      // The newest event said critical: that stands, in this correlator's view and in the bucket.
      const after = await until('the refresh applied over the other write', () => {
        const entry = a.view.alerts.get(key);
        return entry && entry.revision > revision ? entry : undefined;
      });
      expect(after.value).toMatchObject({ status: 'critical', time: t0 + 2_000, since: t0 + 2_000 });
      expect((await kv.get(key))?.json<AlertRecord>()).toMatchObject({ status: 'critical', time: t0 + 2_000 });
      await until('decided as failing', () => a.view.analysis().decisions.get('web1.example.com/http')?.verdict === 'root');
    } finally {
      await a.stop();
    }
  });

  it('a refresh that arrives while the refreshes are being written is written too, not lost', async () => {
    nats = await freshBus();
    hook = await startCollector();
    const config = correlatorConfig(hook.url);
    // Refreshes written every 20 ms: one is nearly always in flight while the next events of its alert arrive.
    const a = await Correlator.start({ config, log: silentLog, nats, topology, instance: 'a', refreshPersistMs: 20 });
    try {
      const js = jetstream(nats);
      const t0 = Date.now() - 600_000;
      const hosts = Array.from({ length: 200 }, (_, i) => `refresh${i}.example.net`);
      const rounds = 30;
      for (let round = 0; round < rounds; round++) {
        await Promise.all(hosts.map((host, i) => js.publish('faultline.events.test', JSON.stringify({ host, check: 'ping', status: 'ok', time: new Date(t0 + round * 1_000 + i).toISOString() }))));
      }
      await until('every event handled', () => a.stats.events === hosts.length * rounds, 30_000);
      await sleep(500);
      const kv = await new Kvm(nats).open(KV_BUCKETS.alerts);
      const stale: string[] = [];
      for (const [i, host] of hosts.entries()) {
        const stored = (await kv.get(alertKey(`${host}/ping`)))?.json<AlertRecord>();
        if (stored?.time !== t0 + (rounds - 1) * 1_000 + i) stale.push(`${host}: ${stored?.time}`);
      }
      expect(stale).toEqual([]);
    } finally {
      await a.stop();
    }
  });

  // Each step has its own bound and names itself when it runs out (they add up to 49 s): under vitest's 30 s the
  // test's timeout fired first, twice in full runs, and said nothing of which step hung.
  it('a new leader resumes a settle window where the last one left it, and the window goes with its root', async () => {
    nats = await freshBus();
    hook = await startCollector();
    const config = correlatorConfig(hook.url, { correlator: { settle: '6s', leaderLease: '2s', ackWait: '5s' } });
    notifier = await startNotifier({ config, log: silentLog, nats, retryBaseMs: 50 });
    const timers = await new Kvm(nats).open(KV_BUCKETS.timers);
    const windows = async () => {
      const found: { unit: string; at: number }[] = [];
      for await (const key of await timers.keys('root.>')) {
        const e = await timers.get(key);
        if (e?.operation === 'PUT') found.push(e.json<{ unit: string; at: number }>());
      }
      return found;
    };
    const a = await Correlator.start({ config, log: silentLog, nats, topology, instance: 'a' });
    let b: Correlator | undefined;
    try {
      await publishEvent(nats, { host: 'log1.example.com', check: 'dns', status: 'critical' }, { source: 'test' });
      let window: { unit: string; at: number } | undefined;
      const seenBy = Date.now() + 10_000;
      while (!window) {
        if (Date.now() > seenBy) throw new Error(`no settle window for log1's unbound within 10 s: ${JSON.stringify(await windows())}; leader ${a.leader}`);
        window = (await windows()).find((w) => w.unit.includes('log1.example.com::Service[unbound]'));
        await sleep(25);
      }
      await sleep(4_000);
      await within(5_000, 'stopping the first leader', a.stop());
      b = await within(5_000, 'starting the second correlator', Correlator.start({ config, log: silentLog, nats, topology, instance: 'b' }));
      const page = await until('the DNS page', () => (hook.bodies() as unknown as Notification[]).find((n) => n.kind === 'page'), 15_000);
      // From when the first leader saw the root (6 s), not from when the second one started (10 s at the earliest):
      // 2.5 s of slack for a busy machine either way.
      const pagedAfter = Date.now() - window.at;
      expect(page.team).toBe('team:netops');
      expect(pagedAfter).toBeGreaterThanOrEqual(6_000);
      expect(pagedAfter).toBeLessThan(8_500);

      await publishEvent(nats, { host: 'log1.example.com', check: 'dns', status: 'ok' }, { source: 'test' });
      const deadline = Date.now() + 10_000;
      while ((await windows()).length > 0) {
        if (Date.now() > deadline) throw new Error(`settle windows left after the recovery: ${JSON.stringify(await windows())}`);
        await sleep(50);
      }
    } finally {
      await a.stop();
      await b?.stop();
    }
  }, 60_000);

  it('a correlator killed in a burst loses no event, repeats no page, and a suppressed child never pages', async () => {
    nats = await freshBus();
    hook = await startCollector();
    const config = correlatorConfig(hook.url);
    notifier = await startNotifier({ config, log: silentLog, nats, retryBaseMs: 50 });
    const dir = mkdtempSync(join(tmpdir(), 'faultline-kill-'));
    const file = join(dir, 'faultline.yaml');
    writeFileSync(
      file,
      [
        'correlator: { settle: 1s, leaderLease: 2s, ackWait: 3s }',
        'notify:',
        `  channels: [{ name: hook, type: webhook, url: "${hook.url}" }]`,
        '  routes: [{ channels: [hook] }]',
        'api: { port: 0 }',
        'log: { level: info }',
      ].join('\n'),
    );
    const start = () => startCli(['serve', '--role', 'correlator', '--config', file], testEnv({ FAULTLINE_CONFIG: file }), /"url":"(http:[^"]+)"[^\n]*health and metrics listening/);
    const first = await start();
    let child: ChildProcess | undefined = first.child;
    // A correlator-only process still answers /healthz and /metrics.
    const health = await fetch(`${first.match[1]}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${first.match[1]}/graphql`)).status).toBe(404);
    try {
      await publishEvent(nats, { host: 'mail1.example.com', check: 'mailq', status: 'critical' }, { source: 'test' });
      await publishEvent(nats, { host: 'log1.example.com', check: 'dns', status: 'critical' }, { source: 'test' });
      const view = await CorrelationView.open(nats, topology, config.correlator);
      await until('the DNS incident', () => [...view.incidents.values()].some((e) => e.value.root.includes('log1.example.com::Service[unbound]')));

      // The burst: 3,000 events over 300 identities; the last status of each is what must survive.
      const last = new Map<string, string>();
      const js = jetstream(nats);
      let sent = 0;
      let exited: Promise<unknown> | undefined;
      const burst = (i: number) => {
        const host = `burst${i % 60}.example.net`;
        const check = `check${Math.floor(i / 60) % 5}`;
        const status = ['ok', 'warning', 'critical'][(i * 7) % 3]!;
        last.set(`${host}/${check}`, status);
        const sends = [js.publish('faultline.events.burst', JSON.stringify({ host, check, status, time: new Date(Date.now() + i).toISOString() }))];
        if (i % 10 === 0) sends.push(js.publish('faultline.events.burst', JSON.stringify({ host: 'mail1.example.com', check: 'mailq', status: 'critical' })));
        return sends;
      };
      for (let i = 0; i < 3_000; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => burst(i + j)).flat());
        sent += 50;
        if (!exited && sent >= 1_200) {
          exited = new Promise((r) => child!.once('exit', r));
          child.kill('SIGKILL');
        }
      }
      await exited;
      child = (await start()).child;
      const deadline = Date.now() + 60_000;
      while (!(await drained(nats))) {
        if (Date.now() > deadline) throw new Error('the correlator did not catch up');
        await sleep(100);
      }
      await sleep(2_500); // settle windows of the burst's roots end, and their pages go out

      for (const [id, status] of last) {
        expect(view.alerts.get(alertKey(id))?.value.status, id).toBe(status);
      }
      const keys = dedupKeys(hook);
      expect(duplicates(keys)).toEqual([]);
      const notes = hook.bodies() as unknown as Notification[];
      expect(notes.filter((n) => n.kind === 'page' && n.team === 'team:mail-team')).toEqual([]);
      expect(notes.filter((n) => n.kind === 'page' && n.team === 'team:netops')).toHaveLength(1);
      view.stop();
    } finally {
      child?.kill('SIGTERM');
    }
  }, 120_000);
});
