// Signed checksums: with SIGNING_KEY_FILE set, every delivery of files also links the invoice's
// SHA256SUMS (`<sha256>  <name>` per file, what `sha256sum -c` reads) and its minisign signature
// made with the seller's key, and says how to check both on Linux, macOS and Windows. Any package
// with files gets it, whatever its kind; an invoice without files gets nothing.
//
// One link key per key generation, derived like download keys (domain/download-keys.ts) with its
// own label; Postgres keeps its SHA-256. The link has no state of its own: the api judges it by
// the invoice's status and its generation's download keys on every request
// (api/signed-checksums.ts), so a regeneration, refund, reversal or dispute stops it with the
// downloads, and extending the keys extends it.
import { deriveLinkKey, keyHash } from '../domain/download-keys';
import type { MinisignKey } from '../domain/minisign';
import { checksumLinkExists, insertChecksumLink } from '../db/signed-checksums';
import type { DeliveryContext, DeliveryLine, KindDelivery } from './kind';

export const sumsFileName = 'SHA256SUMS';
export const signatureFileName = 'SHA256SUMS.minisig';
/** Where minisign is explained and downloaded, for the buyer who has not got it. */
export const minisignHome = 'https://jedisct1.github.io/minisign/';

/** One link per invoice generation: the invoice's files are all in one SHA256SUMS (so its id is 0). */
export function checksumLinkKey(secret: Buffer, salt: Buffer, generation: number): string {
  return deriveLinkKey('checksums link', secret, salt, 0, generation);
}

/** The link's path for one of the two files (the api serves /d/sums/<key>/<file>). */
export function checksumPath(key: string, file: typeof sumsFileName | typeof signatureFileName): string {
  return `/d/sums/${key}/${file}`;
}

/** One command per system that checks the signature, then every file against SHA256SUMS, in the folder holding all of them. */
export function verifyCommands(signing: MinisignKey): DeliveryLine[] {
  const check = `minisign -Vm ${sumsFileName} -P ${signing.publicKey}`;
  // PowerShell has no `-c`: each line's hash is compared with Get-FileHash (-eq compares strings case-insensitively).
  // -Encoding UTF8: Windows PowerShell 5.1 would read the file as the ANSI code page and garble non-ASCII names.
  // Split on one or more spaces: a web page shows sha256sum's two spaces as one, and a copy from it keeps one.
  const windowsCheck = `Get-Content -Encoding UTF8 ${sumsFileName} | ForEach-Object { $h, $f = $_ -split ' +', 2; if ((Get-FileHash -Algorithm SHA256 -LiteralPath $f).Hash -eq $h) { "OK: $f" } else { "FAILED: $f" } }`;
  return [
    { label: 'Check on Linux', value: `${check} && sha256sum -c ${sumsFileName}` },
    { label: 'Check on macOS', value: `${check} && shasum -a 256 -c ${sumsFileName}` },
    { label: 'Check on Windows (PowerShell)', value: `minisign.exe -Vm ${sumsFileName} -P ${signing.publicKey}; if ($?) { ${windowsCheck} }` },
  ];
}

export const signedChecksums: KindDelivery = {
  name: 'signed checksums',

  async issue(ctx: DeliveryContext) {
    if (!ctx.settings.signing) return;
    const key = checksumLinkKey(ctx.settings.keySecret, ctx.salt, ctx.generation);
    await insertChecksumLink(ctx.db, { keyHash: keyHash(key), invoiceId: ctx.invoiceId, generation: ctx.generation });
  },

  async parts(ctx: DeliveryContext) {
    const signing = ctx.settings.signing;
    if (!signing) return [];
    const key = checksumLinkKey(ctx.settings.keySecret, ctx.salt, ctx.generation);
    // No link: the invoice has no files, or signing was turned on after this generation was issued
    // (a resend issues it), or this process derives other keys than the worker (another KEY_SECRET).
    if (!(await checksumLinkExists(ctx.db, keyHash(key), ctx.invoiceId, ctx.generation))) return [];
    const base = ctx.settings.publicUrl;
    return [
      {
        kind: 'signed-checksums',
        packageName: [...new Set(ctx.items.map((item) => item.packageName))].join(', '),
        title: 'Signed checksums',
        lines: [
          // The links are the buyer's like the download links: withheld in the copy Postgres keeps.
          { label: sumsFileName, value: `${base}${checksumPath(key, sumsFileName)}`, url: true, secret: true },
          { label: signatureFileName, value: `${base}${checksumPath(key, signatureFileName)}`, url: true, secret: true },
          { label: 'minisign public key', value: signing.publicKey },
          { label: 'Key ID', value: signing.keyIdText },
          ...verifyCommands(signing),
        ],
        note:
          `Save ${sumsFileName} and ${signatureFileName} in the folder with your downloads and run the line for your system there: ` +
          `minisign (${minisignHome}) shows that ${sumsFileName} is signed by our key, then the checksum tool checks every file against it. ` +
          `Our public key is also at ${base}/minisign.pub and on ${base}/store.`,
      },
    ];
  },
};
