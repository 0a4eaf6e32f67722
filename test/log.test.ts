import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';

describe('the process logger', () => {
  it('never writes a secret, wherever in a logged object it sits', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const log = createLogger('info', out);
    log.info(
      {
        token: 'tok-1234567890abcdef',
        api: { tokens: [{ name: 'noc', token: 'tok-in-a-list-000' }] },
        ingest: { secret: 'shared-secret-0123456789', slack: { signingSecret: 'slack-secret-0123456789' }, pagerduty: { secret: 'pd-secret-0123456789' } },
        channel: { routingKey: 'pd-routing-key-0123', password: 'smtp-password' },
        authorization: 'Bearer abc',
      },
      'configuration',
    );
    await new Promise((r) => setImmediate(r));
    expect(text).toContain('"msg":"configuration"');
    for (const secret of ['tok-1234567890abcdef', 'tok-in-a-list-000', 'shared-secret-0123456789', 'slack-secret-0123456789', 'pd-secret-0123456789', 'pd-routing-key-0123', 'smtp-password', 'Bearer abc']) {
      expect(text).not.toContain(secret);
    }
  });
});
