// The license keys' section of the admin's package and invoice pages: the keys, masked but for
// their tail, with revoke and reissue buttons (CSRF-checked forms that come back to the page).
import type { LicenseKeyView } from './license-actions';
import { CsrfField, Notices, Table, when } from './layout';

export interface LicenseSectionProps {
  csrf: string;
  keys: LicenseKeyView[];
  /** Where the buttons come back to: the page showing the section. */
  back: string;
  /** The package page shows the invoice of each key, the invoice page the package. */
  on: 'package' | 'invoice';
  /** The package's public key (package page, when KEY_SECRET is set). */
  publicKey?: { pem: string; raw: string } | null;
  /** The package issues signed keys: its public key is shown open. */
  signed?: boolean;
  /** The package's license settings, in a sentence; absent on the invoice page. */
  settings?: string;
  flash?: string;
  error?: string;
}

export function LicenseKeysSection(props: LicenseSectionProps) {
  return (
    <section id="licenses">
      <h2>License keys ({props.keys.length})</h2>
      {props.settings && <p>{props.settings}</p>}
      <Notices flash={props.flash} error={props.error} />
      {props.publicKey && (
        <details open={props.signed}>
          <summary>Public key (checks this package's signed keys offline)</summary>
          <pre id="license-public-pem">{props.publicKey.pem}</pre>
          <p>
            Raw Ed25519, base64: <code id="license-public-raw">{props.publicKey.raw}</code>
          </p>
        </details>
      )}
      <Table
        head={['Key', props.on === 'package' ? 'Invoice' : 'Package', 'Unit', 'Version', 'Expires', 'Status', '']}
        rows={props.keys}
        empty="No license key issued."
        row={(k) => (
          <tr class="license-key">
            <td>
              <code style="white-space:nowrap">{k.masked}</code>
            </td>
            <td>{props.on === 'package' ? <a href={`/admin/invoices/${encodeURIComponent(k.invoice)}`}>{k.invoice}</a> : k.package}</td>
            <td>
              {k.unit}
              {k.serial > 1 ? ` (reissue ${k.serial - 1})` : ''}
            </td>
            <td>{k.version}</td>
            <td>{k.expiresAt ? when(k.expiresAt) : 'never'}</td>
            <td>
              <span class="status">{k.status}</span>
              {k.revokedReason ? ` (${k.revokedReason} ${when(k.revokedAt)})` : ''}
            </td>
            <td>
              {k.revokedAt === null && (
                <>
                  <form method="post" action={`/admin/licenses/${k.id}/revoke`} style="display:inline">
                    <CsrfField token={props.csrf} />
                    <input type="hidden" name="back" value={props.back} />
                    <button type="submit">Revoke</button>
                  </form>{' '}
                </>
              )}
              {k.replaceable && (
                <form method="post" action={`/admin/licenses/${k.id}/reissue`} style="display:inline">
                  <CsrfField token={props.csrf} />
                  <input type="hidden" name="back" value={props.back} />
                  <button type="submit">Reissue</button>
                </form>
              )}
            </td>
          </tr>
        )}
      />
    </section>
  );
}
