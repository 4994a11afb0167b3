// Which webhook signing certificates Keyship believes: where they may be fetched from, and whether
// a fetched one chains to a trusted root, is valid at the (injectable) time, and names the expected
// subject. PayPal's live and sandbox policies, and the local simulator's (allowed in simulator mode only).
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type TrustResult = { ok: true; leaf: X509Certificate } | { ok: false; reason: string };

export interface CertTrust {
  /** A reason when this URL must not be fetched at all, undefined when it may be. */
  refuseUrl(url: string): string | undefined;
  check(pem: string, now: Date): TrustResult;
}

export function parsePemChain(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** "CN" -> value from Node's "C=US\nO=PayPal\, Inc.\nCN=..." subject text. */
export function subjectField(cert: X509Certificate, field: string): string | undefined {
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (line.slice(0, eq) === field) return line.slice(eq + 1).replace(/\\(.)/g, '$1');
  }
  return undefined;
}

function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from || now > to) {
    return `certificate "${subjectField(cert, 'CN') ?? cert.subject}" is valid ${from.toISOString()} .. ${to.toISOString()}, not at ${now.toISOString()}`;
  }
  return undefined;
}

const trustDir = path.join(__dirname, 'trust');

/** DigiCert's EV intermediate and root, the chain PayPal's SDKs ship for webhook certificates. */
export function bundledDigiCertChain(): { intermediates: X509Certificate[]; roots: X509Certificate[] } {
  const read = (name: string) => parsePemChain(fs.readFileSync(path.join(trustDir, name), 'latin1'));
  return {
    intermediates: read('cert-DigiCertSHA2ExtendedValidationServerCA.pem'),
    roots: read('cert-DigiCertHighAssuranceEVRootCA.pem'),
  };
}

export const paypalSubjects = {
  live: 'messageverificationcerts.paypal.com',
  sandbox: 'messageverificationcerts.sandbox.paypal.com',
} as const;

export function refusePayPalCertUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `certificate URL "${text.slice(0, 200)}" is not a URL`;
  }
  if (url.protocol !== 'https:') return `certificate URL ${url.origin} is not HTTPS`;
  if (url.username || url.password || url.port) return `certificate URL ${url.origin} carries credentials or a port`;
  const host = url.hostname.toLowerCase();
  if (host !== 'paypal.com' && !host.endsWith('.paypal.com')) return `certificate URL host ${host} is not a paypal.com host`;
  return undefined;
}

/** Walks leaf -> issuer -> ... until a trusted root, checking every signature and validity period. */
function chainProblem(chain: X509Certificate[], extra: X509Certificate[], roots: X509Certificate[], now: Date): string | undefined {
  const [leaf, ...served] = chain;
  if (!leaf) return 'no certificate in the fetched file';
  const candidates = [...served, ...extra, ...roots];
  const isRoot = (cert: X509Certificate) => roots.some((root) => root.fingerprint256 === cert.fingerprint256);
  let current = leaf;
  for (let depth = 0; depth < 6; depth++) {
    const invalid = validityProblem(current, now);
    if (invalid) return invalid;
    if (isRoot(current)) return undefined;
    const issuer = candidates.find((c) => c.ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (!issuer) return `certificate "${subjectField(current, 'CN') ?? current.subject}" does not chain to a trusted root`;
    current = issuer;
  }
  return 'certificate chain is too long';
}

export function payPalCertTrust(options: {
  /** Accepted leaf subject CNs: the live one in live mode, the sandbox one in sandbox mode. */
  subjects: string[];
  intermediates?: X509Certificate[];
  roots?: X509Certificate[];
}): CertTrust {
  const bundled = options.intermediates && options.roots ? undefined : bundledDigiCertChain();
  const intermediates = options.intermediates ?? bundled?.intermediates ?? [];
  const roots = options.roots ?? bundled?.roots ?? [];
  return {
    refuseUrl: refusePayPalCertUrl,
    check(pem, now) {
      let chain: X509Certificate[];
      try {
        chain = parsePemChain(pem);
      } catch (error) {
        return { ok: false, reason: `certificate file does not parse (${(error as Error).message})` };
      }
      const leaf = chain[0];
      if (!leaf) return { ok: false, reason: 'no certificate in the fetched file' };
      const problem = chainProblem(chain, intermediates, roots, now);
      if (problem) return { ok: false, reason: problem };
      const cn = subjectField(leaf, 'CN');
      if (leaf.ca || !cn || !options.subjects.includes(cn) || subjectField(leaf, 'O') !== 'PayPal, Inc.') {
        return { ok: false, reason: `certificate subject CN=${cn ?? '?'} is not ${options.subjects.join(' or ')} of PayPal, Inc.` };
      }
      return { ok: true, leaf };
    },
  };
}

export const simulatorSubject = 'messageverificationcerts.simulator.keyship.invalid';

/** Simulator mode only: the simulator's self-signed certificate, fetched from the simulator itself. */
export function simulatorCertTrust(simulatorUrl: string): CertTrust {
  const origin = new URL(simulatorUrl).origin;
  return {
    refuseUrl(text) {
      try {
        if (new URL(text).origin === origin) return undefined;
      } catch {
        // falls through to the refusal
      }
      return `certificate URL ${text.slice(0, 200)} is not on the PayPal simulator at ${origin}`;
    },
    check(pem, now) {
      let leaf: X509Certificate | undefined;
      try {
        leaf = parsePemChain(pem)[0];
      } catch (error) {
        return { ok: false, reason: `certificate file does not parse (${(error as Error).message})` };
      }
      if (!leaf) return { ok: false, reason: 'no certificate in the fetched file' };
      const invalid = validityProblem(leaf, now);
      if (invalid) return { ok: false, reason: invalid };
      if (!leaf.checkIssued(leaf) || !leaf.verify(leaf.publicKey)) return { ok: false, reason: 'simulator certificate is not self-signed' };
      if (subjectField(leaf, 'CN') !== simulatorSubject) return { ok: false, reason: `certificate subject is not ${simulatorSubject}` };
      return { ok: true, leaf };
    },
  };
}
