import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The process logger: JSON lines on stderr, human-readable when stderr is a terminal. stdout stays free for
 * command output (`--json`, tables). Secrets never reach a log line: the paths below are redacted.
 */
/** Keys that hold secrets, at the top of a logged object or up to three levels into it (a configuration section, a list in one). */
const SECRET_KEYS = ['password', 'token', 'authorization', 'secret', 'signingSecret', 'routingKey'];
const SECRET_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options = {
    level,
    base: { app: 'faultline' },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
  };
  const isTerminal = (destination as NodeJS.WriteStream).isTTY === true;
  if (isTerminal) {
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,app' }));
  }
  return pino(options, destination);
}
