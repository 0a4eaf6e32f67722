import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

function withFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-config-'));
  const file = join(dir, 'faultline.yaml');
  writeFileSync(file, yaml);
  return file;
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has the defaults of design section 9 when nothing is configured', () => {
    const { config, configured, file } = loadConfig({ env: {}, cwd: tmpdir() });
    expect(file).toBeUndefined();
    expect(configured).toEqual({ neo4j: false, nats: false });
    expect(config.neo4j.uri).toBe('bolt://127.0.0.1:7687');
    expect(config.nats.url).toBe('nats://127.0.0.1:4222');
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 4000, auth: 'token' });
    expect(config.correlator).toEqual({ settle: 30_000, threshold: 'critical', mappings: [], leaderLease: 10_000, ackWait: 30_000, retention: 2_592_000_000, flapping: { changes: 6, window: 600_000 } });
  });

  it('reads the keys the design makes a contract', () => {
    const file = withFile(`
correlator:
  settle: 45s
  threshold: warning
notify:
  channels:
    - { name: ops-hook, type: webhook, url: "http://127.0.0.1:9000/hook" }
    - { name: dba-mail, type: email, to: "dba@example.com" }
  routes:
    - { match: { team: "team:dba", severity: critical }, channels: [dba-mail] }
    - { channels: [ops-hook] }
`);
    const { config } = loadConfig({ file, env: {} });
    expect(config.correlator).toMatchObject({ settle: 45_000, threshold: 'warning' });
    expect(config.notify.channels.map((c) => c.name)).toEqual(['ops-hook', 'dba-mail']);
    expect(config.notify.routes[0]).toEqual({ match: { team: 'team:dba', severity: 'critical' }, channels: ['dba-mail'] });
  });

  it('lets the environment override the file and marks the connection as configured', () => {
    const file = withFile('neo4j:\n  uri: bolt://db.example.com:7687\n');
    const { config, configured } = loadConfig({ file, env: { NEO4J_URI: 'neo4j+s://aura.example.com', NATS_URL: 'nats://bus:4222' } });
    expect(config.neo4j.uri).toBe('neo4j+s://aura.example.com');
    expect(config.nats.url).toBe('nats://bus:4222');
    expect(configured).toEqual({ neo4j: true, nats: true });
  });

  it('finds the file through FAULTLINE_CONFIG', () => {
    const file = withFile('api:\n  port: 4100\n');
    expect(loadConfig({ env: { FAULTLINE_CONFIG: file } }).config.api.port).toBe(4100);
  });

  it('names an unknown key and where it is', () => {
    const file = withFile('correlater:\n  settle: 30s\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([`${file}: unknown key "correlater" (did you mean correlator?) at the top level`]);
    const nested = withFile('correlator:\n  setle: 30s\n');
    expect(problemsOf(() => loadConfig({ file: nested, env: {} }))).toEqual([`${nested}: unknown key "setle" (did you mean settle?) in correlator`]);
    // A key of a section written at the top level names the section; a key like nothing known names nothing.
    const flat = withFile('auth: none\nfrobnicate: 1\n');
    expect(problemsOf(() => loadConfig({ file: flat, env: {} }))).toEqual([`${flat}: unknown keys "auth" (did you mean api.auth?), "frobnicate" at the top level`]);
    const channel = withFile('notify:\n  channels:\n    - { name: hook, type: webhook, ulr: "http://127.0.0.1:9/" }\n');
    expect(problemsOf(() => loadConfig({ file: channel, env: {} }))).toEqual([
      `${channel}: notify.channels[0].url: required`,
      `${channel}: unknown key "ulr" (did you mean url?) in notify.channels[0]`,
    ]);
  });

  it('names the environment variable that holds a bad value', () => {
    expect(problemsOf(() => loadConfig({ env: { NEO4J_URI: 'http://localhost:7474' }, cwd: tmpdir() }))).toEqual([
      'NEO4J_URI: expected a Neo4j URL (bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s://, neo4j+ssc://), got "http://localhost:7474"',
    ]);
  });

  it('never quotes credentials or a webhook URL in an error', () => {
    expect(problemsOf(() => loadConfig({ env: { NATS_URL: 'http://faultline:s3cr3t@nats.example.com:4222' }, cwd: tmpdir() }))).toEqual([
      'NATS_URL: expected a NATS URL (nats://, tls://, ws://, wss://), got "http://***@nats.example.com:4222"',
    ]);
    const file = withFile('notify:\n  channels: [{ name: chat, type: slack, url: "hooks.slack.com/services/T0/B0/s3cr3t" }]\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([`${file}: notify.channels[0].url: expected an HTTP URL (http://, https://)`]);
  });

  it('rejects a bad duration, threshold and a route to an unknown channel, each on its own line', () => {
    const file = withFile(`
correlator: { settle: soon, threshold: loud }
notify:
  channels: [{ name: a, type: webhook, url: "http://127.0.0.1:1/" }]
  routes: [{ channels: [b] }]
`);
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe(`${file}: correlator.settle: expected a duration like 30s, 5m or 1h, got "soon"`);
    expect(problems[1]).toMatch(new RegExp(`^${file}: correlator.threshold: `));
    expect(problems[2]).toBe(`${file}: notify.routes[0].channels[0]: route names unknown channel "b"`);
  });

  it('reminds every 4h by default; remind takes a duration of a minute or more, or false', () => {
    expect(loadConfig({ env: {}, cwd: tmpdir() }).config.notify.remind).toBe(14_400_000);
    expect(loadConfig({ file: withFile('notify: { remind: 1h30m }\n'), env: {} }).config.notify.remind).toBe(5_400_000);
    expect(loadConfig({ file: withFile('notify: { remind: false }\n'), env: {} }).config.notify.remind).toBe(false);
    expect(loadConfig({ file: join(import.meta.dirname, '..', '..', 'examples', 'faultline.yaml'), env: {} }).config.notify.remind).toBe(14_400_000);
    const file = withFile('notify: { remind: 10s }\n');
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([`${file}: notify.remind: remind at most once a minute (e.g. 4h), or false for never`]);
  });

  it('takes the PagerDuty webhook signing secret from the file (one or a list) or FAULTLINE_PAGERDUTY_WEBHOOK_SECRET, never echoing it', () => {
    expect(loadConfig({ env: {}, cwd: tmpdir() }).config.ingest.pagerduty).toBeUndefined();
    const secret = 'pagerduty-signing-secret-0123';
    expect(loadConfig({ file: withFile(`ingest: { pagerduty: { secret: ${secret} } }\n`), env: {} }).config.ingest.pagerduty).toEqual({ secret: [secret] });
    expect(loadConfig({ file: withFile(`ingest: { pagerduty: { secret: [${secret}, ${secret}-next] } }\n`), env: {} }).config.ingest.pagerduty).toEqual({ secret: [secret, `${secret}-next`] });
    expect(loadConfig({ env: { FAULTLINE_PAGERDUTY_WEBHOOK_SECRET: secret }, cwd: tmpdir() }).config.ingest.pagerduty).toEqual({ secret: [secret] });
    const problems = problemsOf(() => loadConfig({ env: { FAULTLINE_PAGERDUTY_WEBHOOK_SECRET: 'too-short-1234' }, cwd: tmpdir() }));
    expect(problems).toEqual(['FAULTLINE_PAGERDUTY_WEBHOOK_SECRET: a PagerDuty webhook signing secret is at least 16 characters']);
  });

  it("refuses Slack's Acknowledge button without the signing secret that takes its clicks", () => {
    const channel = '{ name: chat, type: slack, url: "https://hooks.slack.com/services/T/B/X", acknowledgeButton: true }';
    const file = withFile(`notify: { channels: [${channel}] }\n`);
    expect(problemsOf(() => loadConfig({ file, env: {} }))).toEqual([
      `${file}: notify.channels[0].acknowledgeButton: needs ingest.slack.signingSecret, so that faultline can take the click (POST /ingest/slack)`,
    ]);
    const secret = 'slack-signing-secret-0123456789';
    expect(loadConfig({ file, env: { FAULTLINE_SLACK_SIGNING_SECRET: secret } }).config.ingest.slack).toEqual({ signingSecret: [secret] });
  });

  it('reports broken YAML with its line', () => {
    const file = withFile('api:\n  port: [4000\n');
    const [problem] = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problem).toMatch(new RegExp(`^${file}:\\d+: invalid YAML: `));
  });

  it('says when the named file cannot be read', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/faultline.yaml', env: {} }))).toEqual([
      '/nonexistent/faultline.yaml: cannot read the configuration file (ENOENT)',
    ]);
  });
});

describe('API tokens from the environment', () => {
  it('adds FAULTLINE_API_TOKEN as a read-write token beside the file tokens', () => {
    const file = withFile('api:\n  tokens:\n    - { name: noc, token: "noc-token-0123456789", scopes: [read] }\n');
    const { config } = loadConfig({ file, env: { FAULTLINE_API_TOKEN: 'env-token-0123456789' } });
    expect(config.api.tokens).toEqual([
      { name: 'noc', token: 'noc-token-0123456789', scopes: ['read'] },
      { name: 'FAULTLINE_API_TOKEN', token: 'env-token-0123456789', scopes: ['read', 'write'] },
    ]);
  });

  it('names the variable, and never echoes the secret, when the token is too short', () => {
    expect(problemsOf(() => loadConfig({ env: { FAULTLINE_API_TOKEN: 'short-secret' }, cwd: tmpdir() }))).toEqual([
      'FAULTLINE_API_TOKEN: a token must be at least 16 characters',
    ]);
  });
});

describe('ingest', () => {
  it('has no secret and no webhooks by default, and reads severities from the severity label', () => {
    const { config } = loadConfig({ env: {}, cwd: tmpdir() });
    expect(config.ingest).toEqual({ alertmanager: { severityLabel: 'severity', severities: {}, checkLabels: [] }, webhooks: [] });
  });

  it('reads the example configuration the README points to', () => {
    const { config } = loadConfig({ file: join(import.meta.dirname, '..', '..', 'examples', 'ingest', 'faultline.yaml'), env: {} });
    expect(config.ingest.webhooks.map((hook) => hook.name)).toEqual(['grafana', 'uptime']);
    expect(config.ingest.webhooks[0]).toMatchObject({ items: '$.alerts', id: ['$.fingerprint', '$.status', '$.startsAt'], statusMap: { firing: 'critical', resolved: 'ok' } });
    expect(config.ingest.webhooks[1]).toMatchObject({ check: 'uptime', statusMap: { '0': 'critical', '1': 'ok' }, tags: { monitor: '$.monitor.name' } });
    expect(config.ingest.alertmanager.severities).toEqual({ P1: 'critical', P2: 'critical', P3: 'warning' });
  });

  it('names a short secret without echoing it, a duplicate webhook, a bad path, a bad status and a misspelt key', () => {
    const file = withFile(`
ingest:
  secret: too-short
  webhooks:
    - { name: hook, host: $.host, check: $..check, status: $.state, statusMap: { alerting: on-fire } }
    - { name: hook, host: $.host, check: c, status: s, item: $.alerts }
    - { name: "a/b", host: h, check: c, status: s }
`);
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    expect(problems).toEqual([
      `${file}: ingest.secret: the secret must be at least 16 characters`,
      `${file}: ingest.webhooks[0].check: expected a path like $.labels.host (or a constant without $), got "$..check"`,
      expect.stringMatching(new RegExp(`^${file}: ingest.webhooks\\[0\\].statusMap.alerting: `)),
      `${file}: unknown key "item" (did you mean items?) in ingest.webhooks[1]`,
      `${file}: ingest.webhooks[2].name: expected letters, digits, _ and - (at most 64)`,
    ]);
    expect(problems.join('\n')).not.toContain('too-short');

    const twice = withFile('ingest:\n  webhooks:\n    - { name: hook, host: $.h, check: c, status: s }\n    - { name: hook, host: $.h, check: c, status: s }\n');
    expect(problemsOf(() => loadConfig({ file: twice, env: {} }))).toEqual([`${twice}: ingest.webhooks[1].name: webhook name "hook" is not unique`]);
  });
});
