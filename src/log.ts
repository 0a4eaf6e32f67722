import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The process logger: JSON lines on stderr, human-readable when stderr is a terminal. stdout stays free for
 * command output (`--json`, tables). Secrets never reach a log line: the paths below are redacted.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options = {
    level,
    base: { app: 'faultline' },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  };
  const isTerminal = (destination as NodeJS.WriteStream).isTTY === true;
  if (isTerminal) {
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname,app' }));
  }
  return pino(options, destination);
}
