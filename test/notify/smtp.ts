import type { AddressInfo } from 'node:net';
import PostalMime, { type Email } from 'postal-mime';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope: MAIL FROM and the accepted RCPT TOs. */
  envelope: { from: string; to: string[] };
  /** The user who authenticated, if any. */
  user?: string;
  raw: string;
  parsed: Email;
}

export interface SmtpServerOptions {
  /** Answers RCPT TO: undefined accepts, a number refuses with that SMTP status. */
  rcpt?: (address: string) => number | undefined;
  /** Requires AUTH with this user and password. */
  auth?: { user: string; pass: string };
}

/**
 * A real SMTP server (the `smtp-server` package) on loopback, port 0, plain SMTP without STARTTLS, that keeps
 * every mail it accepts, parsed by postal-mime.
 */
export async function startSmtpServer(options: SmtpServerOptions = {}) {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
        return;
      }
      callback(withStatus(new Error('Authentication failed'), 535));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const status = options.rcpt?.(address.address);
      if (status === undefined) callback();
      else callback(withStatus(new Error(`<${address.address}> refused`), status));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        PostalMime.parse(raw).then(
          (parsed) => {
            received.push({
              envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
              ...(typeof session.user === 'string' ? { user: session.user } : {}),
              raw,
              parsed,
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type SmtpTestServer = Awaited<ReturnType<typeof startSmtpServer>>;

function withStatus(err: Error, responseCode: number): Error {
  return Object.assign(err, { responseCode });
}
