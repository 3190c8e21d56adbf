import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * The server's log: one format per stream. On a terminal, readable lines (pino-pretty); otherwise (a service
 * manager, CI, a file) JSON lines that log tools parse. Always on stderr, so stdout stays for output.
 */
export function createLogger(level: string): Logger {
  const stream = process.stderr;
  if (stream.isTTY && !process.env.CINEREC_LOG_JSON)
    return pino(
      { level },
      pretty({
        destination: 2,
        sync: true,
        colorize: stream.hasColors?.() ?? false,
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'hostname',
      }),
    );
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
