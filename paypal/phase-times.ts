// Where the time of one PayPal message went, phase by phase (stored, verified, signalled, ...):
// sent back as a Server-Timing header and written on the request's log line, so a slow answer to
// PayPal can be read apart without a profiler. Laps, not nested spans: each phase ends the previous.
export class PhaseTimes {
  private last = performance.now();
  readonly phases: [phase: string, ms: number][] = [];

  /** Ends the phase that ran since the previous lap (or since this was made). */
  lap(phase: string): void {
    const now = performance.now();
    this.phases.push([phase, now - this.last]);
    this.last = now;
  }

  /** RFC 'Server-Timing' syntax: `store;dur=2.1, verify;dur=3.4`. */
  header(): string {
    return this.phases.map(([phase, ms]) => `${phase};dur=${ms.toFixed(1)}`).join(', ');
  }

  /** For the log line: { store: 2.1, verify: 3.4 }. */
  fields(): Record<string, number> {
    return Object.fromEntries(this.phases.map(([phase, ms]) => [phase, Math.round(ms * 10) / 10]));
  }
}
