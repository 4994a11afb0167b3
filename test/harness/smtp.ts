// A real SMTP server (nodemailer's smtp-server) that keeps every message it accepts, parsed back
// with mailparser, so tests read e-mails the way a mail client would.
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { freePort } from './ports';

export interface CapturedMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
}

export interface SmtpCapture {
  port: number;
  url: string;
  messages: CapturedMail[];
  /** Resolves when at least n messages (matching, if given) have arrived; rejects after ms. */
  waitForMessages(n: number, ms?: number, match?: (m: CapturedMail) => boolean): Promise<CapturedMail[]>;
  /** While true, every message is refused with a temporary 451 error (an outage). */
  refusing: boolean;
  /** Runs after a message has arrived and before the server answers 250 (a fault to inject there). */
  beforeAccepting?: () => Promise<void>;
  close(): Promise<void>;
}

/** `port`: where to listen (a free one when not given). */
export async function smtpCapture(options: { port?: number } = {}): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const waiters = new Set<() => void>();
  const capture: SmtpCapture = {
    port: 0,
    url: '',
    messages,
    refusing: false,
    waitForMessages(n, ms = 10_000, match = () => true) {
      const matching = () => messages.filter(match);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (matching().length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(matching());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${n} e-mail(s) within ${ms} ms, got ${matching().length}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 25 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (capture.refusing) {
          const refusal = Object.assign(new Error('Mailbox unavailable, try again later'), { responseCode: 451 });
          callback(refusal);
          return;
        }
        const raw = Buffer.concat(chunks);
        Promise.resolve(capture.beforeAccepting?.()).then(() => simpleParser(raw)).then(
          (parsed) => {
            messages.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              raw,
              parsed,
            });
            callback();
            for (const waiter of [...waiters]) waiter();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  capture.port = options.port ?? (await freePort());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(capture.port, '127.0.0.1', () => resolve());
  });
  capture.url = `smtp://127.0.0.1:${capture.port}`;
  return capture;
}
