// Keyship's own worker metrics, recorded through the Temporal Runtime's metric meter so that they
// are served on the same Prometheus endpoint as the SDK's worker metrics (WORKER_METRICS_PORT).
import { Runtime } from '@temporalio/worker';
import type { Transporter } from 'nodemailer';

export interface WorkerMetrics {
  /** A key e-mail handed to the SMTP server (not counted again when a retry finds it already sent). */
  delivered(purpose: string): void;
  /** One refused or failed SMTP attempt (the activity retries it). */
  emailFailed(): void;
}

export function createWorkerMetrics(): WorkerMetrics {
  const meter = Runtime.instance().metricMeter;
  const deliveries = meter.createCounter('keyship_deliveries_total', 'emails', 'Key e-mails sent, by purpose (delivery, resend, extend, regenerate, reinstated, reminder)');
  const emailFailures = meter.createCounter('keyship_email_failures_total', 'emails', 'SMTP attempts that failed; each is retried by its activity');
  return {
    delivered: (purpose) => deliveries.add(1, { purpose }),
    emailFailed: () => emailFailures.add(1),
  };
}

/** The transporter, counting every failed send: one seam for every e-mail the activities send. */
export function countingFailures<T extends Transporter>(mailer: T, metrics: Pick<WorkerMetrics, 'emailFailed'>): T {
  const send = mailer.sendMail.bind(mailer) as (mail: unknown) => Promise<unknown>;
  const counted = async (mail: unknown) => {
    try {
      return await send(mail);
    } catch (error) {
      metrics.emailFailed();
      throw error;
    }
  };
  // The activities use the promise form only.
  mailer.sendMail = counted as T['sendMail'];
  return mailer;
}
