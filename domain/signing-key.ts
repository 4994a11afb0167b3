// The seller's signing key: the minisign secret key SIGNING_KEY_FILE names, read once when a
// process starts. Like KEY_SECRET it lives outside the database (a backup of Postgres holds no
// way to sign). Unset, nothing is signed; set, a key that cannot be used stops the worker and the
// api at start with a sentence, rather than deliveries that quietly lose their signatures.
import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from '../config/env';
import { MinisignFormatError, parseSecretKey, type MinisignKey } from './minisign';

export type { MinisignKey };

const unset = 'or unset SIGNING_KEY_FILE to deliver without signed checksums';

/** The configured key, or undefined when signing is off; throws ConfigError naming SIGNING_KEY_FILE and the fix. */
export function signingKeyFromConfig(config: Pick<Config, 'invoice'>): MinisignKey | undefined {
  const file = config.invoice.signingKeyFile;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? "Keyship's user may not read it" : code === 'EISDIR' ? 'it is a folder' : `reading it failed (${code ?? String(error)})`;
    throw new ConfigError(
      `SIGNING_KEY_FILE is "${file}" but ${why}; create a key without a password with "minisign -G -W -s ${file}" (the public key goes to the .pub file beside it), let Keyship's user read it, ${unset}.`,
    );
  }
  try {
    return parseSecretKey(text);
  } catch (error) {
    if (!(error instanceof MinisignFormatError)) throw error;
    const fix = error.message === 'it is password-protected'
      ? `Keyship signs unattended, so remove the password with "minisign -C -W -s ${file}"`
      : `point it at the secret key "minisign -G -W" wrote (not the .pub file)`;
    throw new ConfigError(`SIGNING_KEY_FILE is "${file}" but that is not a minisign secret key Keyship can sign with: ${error.message}; ${fix}, ${unset}.`);
  }
}
