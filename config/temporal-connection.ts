// Connection options for a Temporal server, a cluster with mTLS, or Temporal Cloud (API key),
// shared by the api's client and the worker's native connection.
import { readFileSync } from 'node:fs';
import type { Config } from './env';

export interface TemporalConnectionOptions {
  address: string;
  tls?: { clientCertPair: { crt: Buffer; key: Buffer } } | true;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export function temporalConnectionOptions(config: Config): TemporalConnectionOptions {
  const { address, apiKey, tlsCertPath, tlsKeyPath, namespace } = config.temporal;
  if (tlsCertPath && tlsKeyPath) {
    return { address, tls: { clientCertPair: { crt: readFileSync(tlsCertPath), key: readFileSync(tlsKeyPath) } } };
  }
  if (apiKey) {
    // Temporal Cloud with an API key: TLS on, and the namespace named in the metadata.
    return { address, tls: true, apiKey, metadata: { 'temporal-namespace': namespace } };
  }
  return { address };
}
