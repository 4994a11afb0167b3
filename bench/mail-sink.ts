// The benchmarks' mailbox, in a process of its own: the tests' SMTP capture (a real SMTP server,
// every message parsed back with mailparser), which reports each message's arrival on stdout as
// `mail <kind> <epoch ms> <recipient> ...` and keeps nothing. Parsing costs CPU; in the load
// generator's process it would delay the answers the load generator times.
import { smtpCapture, type CapturedMail } from '../test/harness/smtp';
import { mailKind } from './mail-arrivals';

async function main() {
  const capture = await smtpCapture({ port: Number(process.env.SMTP_SINK_PORT) });
  capture.messages.push = (...mails: CapturedMail[]) => {
    const now = Date.now();
    for (const mail of mails) process.stdout.write(`mail ${mailKind(mail.parsed.subject)} ${now} ${mail.envelope.to.join(' ')}\n`);
    return 0;
  };
  process.once('SIGTERM', () => void capture.close().then(() => process.exit(0)));
  console.log(`mail sink ready ${capture.url}`);
}

void main();
