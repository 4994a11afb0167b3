// The package pages' markup: list, detail (files with checksums, the Buy Now button's HTML, bulk
// actions), and the create/edit form.
import { maxExtendDays, minExtendDays } from '../../domain/operator-actions';
import { defaultDisputePolicy, defaultRefundPolicy } from '../../domain/money-policy';
import type { BulkActionRow } from '../../db/bulk-actions';
import type { NotificationRow, PackageFileRow, PackageRow } from '../../db/packages';
import type { EditorField } from '../../kinds';
import { packageKinds } from '../../kinds';
import { AdminLayout, CsrfField, Flash, Notices, PostButton, Table, bytes, when } from './layout';
import { LicenseKeysSection, type LicenseSectionProps } from './license-views';
import { kindEditors, kindLabels, licenseEditor, type PackageFormValues } from './package-form';
import type { NotificationInput } from './notification-queries';

export type { PackageFormValues };

/** One setting of a kind (or of license keys), rendered from its module's EditorField. */
function SettingField(props: { prefix: string; field: EditorField; value: string }) {
  const { field, value } = props;
  const name = `${props.prefix}.${field.name}`;
  const id = name.replace(/\./g, '-');
  const help = field.help ? <small>{field.help}</small> : undefined;
  if (field.type === 'checkbox') {
    return (
      <div>
        <label>
          <input type="checkbox" id={id} name={name} checked={value === 'on'} /> {field.label}
        </label>
        {help}
      </div>
    );
  }
  const control =
    field.type === 'textarea' ? (
      <textarea id={id} name={name}>
        {value}
      </textarea>
    ) : field.type === 'select' ? (
      <select id={id} name={name}>
        {(field.options ?? []).map((o) => (
          <option value={o.value} selected={value === o.value}>
            {o.label}
          </option>
        ))}
      </select>
    ) : (
      <input id={id} name={name} value={value} type={field.type === 'datetime' ? 'datetime-local' : field.type === 'number' ? 'number' : field.type === 'url' ? 'url' : 'text'} />
    );
  return (
    <div style={field.type === 'textarea' ? 'grid-column: 1 / -1' : undefined}>
      <label for={id}>{field.label}</label>
      {control}
      {help}
    </div>
  );
}

export function PackageListPage(props: { csrf: string; packages: PackageRow[] }) {
  return (
    <AdminLayout title="Packages" csrf={props.csrf}>
      <h1>Packages</h1>
      <p>
        <a href="/admin/packages/new">New package</a>
      </p>
      <Table
        head={['Item', 'Name', 'Price', 'Files', 'Paid invoices', 'On sale']}
        rows={props.packages}
        row={(p) => (
          <tr>
            <td>
              <a href={`/admin/packages/${encodeURIComponent(p.itemNumber)}`}>{p.itemNumber}</a>
            </td>
            <td>{p.name}</td>
            <td>
              {p.price} {p.currency}
            </td>
            <td>{p.fileCount}</td>
            <td>{p.paidInvoices}</td>
            <td>{p.active ? 'yes' : 'no'}</td>
          </tr>
        )}
      />
    </AdminLayout>
  );
}

export function PackageFormPage(props: { csrf: string; editing?: string; values: PackageFormValues; error?: string }) {
  const v = props.values;
  const license = licenseEditor();
  const action = props.editing ? `/admin/packages/${encodeURIComponent(props.editing)}` : '/admin/packages';
  return (
    <AdminLayout title={props.editing ? `Edit ${props.editing}` : 'New package'} csrf={props.csrf}>
      <h1>{props.editing ? `Edit ${props.editing}` : 'New package'}</h1>
      <Flash message={props.error} error />
      <form method="post" action={action} class="edit">
        <CsrfField token={props.csrf} />
        <div>
          <label for="itemNumber">Item number (PayPal item_number)</label>
          <input id="itemNumber" name="itemNumber" value={v.itemNumber ?? ''} required readonly={props.editing !== undefined} />
        </div>
        <div>
          <label for="name">Name</label>
          <input id="name" name="name" value={v.name ?? ''} required />
        </div>
        <div>
          <label for="price">Price</label>
          <input id="price" name="price" value={v.price ?? ''} required inputmode="decimal" />
        </div>
        <div>
          <label for="currency">Currency</label>
          <input id="currency" name="currency" value={v.currency ?? 'USD'} required maxlength={3} />
        </div>
        <div>
          <label for="kind">Kind (what it delivers besides files)</label>
          <select id="kind" name="kind">
            {packageKinds.map((k) => (
              <option value={k} selected={(v.kind ?? 'files') === k}>
                {kindLabels[k]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="keyTtl">Key lifetime (e.g. 3d; empty: KEY_TTL)</label>
          <input id="keyTtl" name="keyTtl" value={v.keyTtl ?? ''} />
        </div>
        <div>
          <label for="downloadLimit">Downloads per key (empty: unlimited)</label>
          <input id="downloadLimit" name="downloadLimit" value={v.downloadLimit ?? ''} inputmode="numeric" />
        </div>
        <div>
          <label for="reminderHours">Reminder hours before expiry (empty: none)</label>
          <input id="reminderHours" name="reminderHours" value={v.reminderHours ?? '24'} inputmode="numeric" />
        </div>
        <div>
          <label for="refundPolicy">A partial refund</label>
          <select id="refundPolicy" name="refundPolicy">
            <option value="keep_on_partial" selected={(v.refundPolicy ?? defaultRefundPolicy) === 'keep_on_partial'}>keeps access (refunding the whole amount revokes)</option>
            <option value="revoke_on_any" selected={v.refundPolicy === 'revoke_on_any'}>revokes access (revoke on any refund)</option>
          </select>
        </div>
        <div>
          <label for="disputePolicy">While a buyer's dispute is open</label>
          <select id="disputePolicy" name="disputePolicy">
            <option value="suspend" selected={(v.disputePolicy ?? defaultDisputePolicy) === 'suspend'}>downloads are suspended</option>
            <option value="keep" selected={v.disputePolicy === 'keep'}>downloads go on</option>
          </select>
        </div>
        <div>
          <label>
            <input type="checkbox" name="selfService" checked={v.selfService ?? false} /> Buyers may renew an expired link themselves
          </label>
          <label>
            <input type="checkbox" name="active" checked={v.active ?? true} /> On sale
          </label>
        </div>
        <div style="grid-column: 1 / -1">
          <label for="supportText">Support text (in every delivery e-mail and on the thank-you page)</label>
          <textarea id="supportText" name="supportText">
            {v.supportText ?? ''}
          </textarea>
        </div>
        <div style="grid-column: 1 / -1">
          <label for="description">Description (shown on the store page)</label>
          <textarea id="description" name="description">
            {v.description ?? ''}
          </textarea>
        </div>
        {kindEditors().map((e) => (
          <fieldset id={`kind-${e.kind}`} style="grid-column: 1 / -1" class="edit">
            <legend>
              {e.label.charAt(0).toUpperCase() + e.label.slice(1)} settings <small>(read only when the kind above is “{e.label}”)</small>
            </legend>
            {e.settings.fields.map((f) => (
              <SettingField prefix={`kindSettings.${e.kind}`} field={f} value={v.kindSettings?.[e.kind]?.[f.name] ?? ''} />
            ))}
          </fieldset>
        ))}
        {license && (
          <fieldset id="license-keys" style="grid-column: 1 / -1" class="edit">
            <legend>License keys</legend>
            <div>
              <label>
                <input type="radio" name="licenseKeys" value="off" checked={v.licenseKeys !== 'on'} /> none
              </label>
              <label>
                <input type="radio" name="licenseKeys" value="on" checked={v.licenseKeys === 'on'} /> issue license keys
              </label>
            </div>
            {license.fields.map((f) => (
              <SettingField prefix="license" field={f} value={v.license?.[f.name] ?? ''} />
            ))}
          </fieldset>
        )}
        <div>
          <button type="submit">{props.editing ? 'Save' : 'Create package'}</button>
        </div>
      </form>
    </AdminLayout>
  );
}

export function PackageDetailPage(props: {
  csrf: string;
  pkg: PackageRow;
  files: PackageFileRow[];
  bulk: BulkActionRow[];
  notifications: NotificationRow[];
  /** The classic Buy Now button (unset with PAYPAL_CHECKOUT=orders). */
  buttonHtml?: string;
  /** The PayPal Checkout button (unset with PAYPAL_CHECKOUT=classic). */
  checkoutHtml?: string;
  defaultDays: number;
  flash?: string;
  error?: string;
  /** The package's license keys (kinds/license-keys.ts), when it has or had any. */
  licenses?: LicenseSectionProps;
}) {
  const p = props.pkg;
  const base = `/admin/packages/${encodeURIComponent(p.itemNumber)}`;
  return (
    <AdminLayout title={p.name} csrf={props.csrf}>
      <h1>
        {p.name} <small>{p.itemNumber}</small>
      </h1>
      <Notices flash={props.flash} error={props.error} />
      <dl>
        <dt>Price</dt>
        <dd>
          {p.price} {p.currency}
        </dd>
        <dt>Kind</dt>
        <dd id="package-kind">{kindLabels[p.kind]}</dd>
        {p.description && (
          <>
            <dt>Description</dt>
            <dd style="white-space: pre-line">{p.description}</dd>
          </>
        )}
        <dt>Key lifetime</dt>
        <dd>{p.keyTtlSeconds ? `${Math.round((p.keyTtlSeconds / 3600) * 10) / 10} h` : 'KEY_TTL'}</dd>
        <dt>Downloads per key</dt>
        <dd>{p.downloadLimit ?? 'unlimited'}</dd>
        <dt>Reminder</dt>
        <dd>{p.reminderHours ? `${p.reminderHours} h before expiry` : 'none'}</dd>
        <dt>Self-service renewal</dt>
        <dd>{p.selfService ? 'yes' : 'no'}</dd>
        <dt>Refunds and disputes</dt>
        <dd>
          a partial refund {p.refundPolicy === 'revoke_on_any' ? 'revokes' : 'keeps'} access; an open dispute {p.disputePolicy === 'keep' ? 'keeps' : 'suspends'} downloads
        </dd>
        <dt>On sale</dt>
        <dd>{p.active ? 'yes' : 'no'}</dd>
        <dt>Paid invoices</dt>
        <dd>
          <a href={`/admin/invoices?item=${encodeURIComponent(p.itemNumber)}`}>{p.paidInvoices}</a> ·{' '}
          <a href={`${base}/buyers.csv`}>buyers as CSV</a>
        </dd>
      </dl>
      <p>
        <a href={`${base}/edit`}>Edit package</a>
        {p.kind === 'support' && (
          <>
            {' '}
            · <a href={`${base}/credentials`}>Support logins (pool)</a>
          </>
        )}
        {p.kind === 'event' && (
          <>
            {' '}
            · <a href={`/admin/events/${encodeURIComponent(p.itemNumber)}/check-in`}>Check-in</a> · <a href={`${base}/attendees`}>Attendees</a> (
            <a href={`${base}/attendees.csv`}>CSV</a>)
          </>
        )}
      </p>

      <h2>Files</h2>
      <Table
        head={['Name', 'Size', 'Checksums', 'Stored at', 'Offered']}
        rows={props.files}
        empty="No files yet: add one below."
        row={(f) => (
          <tr>
            <td>
              {f.name}
              {f.active ? '' : ' (retired)'}
            </td>
            <td>{bytes(f.sizeBytes)}</td>
            <td>
              <code>MD5 {f.md5}</code>
              <br />
              <code>SHA-256 {f.sha256}</code>
            </td>
            <td>
              <code>{f.storagePath}</code>
            </td>
            <td>
              <PostButton
                csrf={props.csrf}
                action={`${base}/files/${f.id}/${f.active ? 'retire' : 'restore'}`}
                label={f.active ? 'Retire' : 'Bring back'}
                danger={f.active}
                ariaLabel={`${f.active ? 'Retire' : 'Bring back'} ${f.name}`}
              />
            </td>
          </tr>
        )}
      />
      <form method="post" action={`${base}/files`} enctype="multipart/form-data" class="edit">
        <CsrfField token={props.csrf} />
        <div>
          <label for="upload">Upload a file</label>
          <input id="upload" name="upload" type="file" />
        </div>
        <div>
          <label for="path">or a path inside FILES_DIR</label>
          <input id="path" name="path" placeholder="incoming/guide-v2.pdf" />
        </div>
        <div>
          <label for="fileName">Name buyers see (optional)</label>
          <input id="fileName" name="name" />
        </div>
        <div>
          <button type="submit">Add file</button>
        </div>
      </form>
      <p class="muted">
        A file with the same name replaces the old one (existing keys then serve the new version). A retired file is no longer given to new buyers; invoices
        that had it keep it (resend, extend, regenerate).
      </p>

      <h2 id="notifications">Other notifications</h2>
      <p class="muted">E-mails sent once per invoice after delivery (e.g. how to get support). Templates may use {'{{firstName}}'}, {'{{packageName}}'}, {'{{invoiceNumber}}'} and {'{{supportText}}'}.</p>
      {props.notifications.length > 0 && (
        <Table
          rows={props.notifications}
          row={(n) => (
            <tr>
              <td>
                <a href={`${base}/notifications/${n.id}`}>{n.name}</a>
                {n.active ? '' : ' (inactive)'}
              </td>
              <td>{n.subject}</td>
              <td>{n.htmlBody ? 'text and HTML' : 'text'}</td>
              <td>
                <PostButton
                  csrf={props.csrf}
                  action={`${base}/notifications/${n.id}/${n.active ? 'deactivate' : 'activate'}`}
                  label={n.active ? 'Deactivate' : 'Activate'}
                  ariaLabel={`${n.active ? 'Deactivate' : 'Activate'} ${n.name}`}
                />
              </td>
            </tr>
          )}
        />
      )}
      <p>
        <a href={`${base}/notifications/new`}>Add a notification</a>
      </p>

      {props.checkoutHtml && (
        <>
          <h2>PayPal Checkout button</h2>
          <pre>{props.checkoutHtml}</pre>
        </>
      )}
      {props.buttonHtml && (
        <>
          <h2>PayPal Buy Now button (classic)</h2>
          <pre>{props.buttonHtml}</pre>
        </>
      )}

      <h2>Bulk actions</h2>
      <form method="post" action={`${base}/bulk/extend`} class="inline">
        <CsrfField token={props.csrf} />
        <span>
          <label for="bulk-days">Days</label>
          <input id="bulk-days" name="days" type="number" min={minExtendDays} max={maxExtendDays} value="7" required />
        </span>
        <button type="submit">Extend every live key</button>
      </form>
      <form method="post" action={`${base}/bulk/new-version`} class="edit">
        <CsrfField token={props.csrf} />
        <div>
          <label for="nv-days">Renew keys by days</label>
          <input id="nv-days" name="days" type="number" min={minExtendDays} max={maxExtendDays} value={String(props.defaultDays)} required />
        </div>
        <div style="grid-column: span 2">
          <label for="nv-note">What is new (goes into the e-mail)</label>
          <textarea id="nv-note" name="note" />
        </div>
        <div>
          <button type="submit">E-mail every buyer: new version</button>
        </div>
      </form>
      {props.bulk.length > 0 && (
        <ul>
          {props.bulk.map((b) => (
            <li>
              <a href={`/admin/bulk/${encodeURIComponent(b.workflowId)}`}>{b.workflowId}</a> · {b.kind} · {b.days} day(s) · {b.startedBy} · {when(b.createdAt)}
            </li>
          ))}
        </ul>
      )}
      {props.licenses && <LicenseKeysSection {...props.licenses} />}
    </AdminLayout>
  );
}

export type NotificationFormValues = Partial<Record<keyof NotificationInput, string | boolean | null>>;

/** Add or edit one of a package's other notifications. */
export function NotificationFormPage(props: { csrf: string; itemNumber: string; id?: number; values: NotificationFormValues; error?: string }) {
  const v = props.values;
  const base = `/admin/packages/${encodeURIComponent(props.itemNumber)}`;
  const title = props.id ? `Notification ${String(v.name ?? '')} of ${props.itemNumber}` : `New notification for ${props.itemNumber}`;
  const str = (x: unknown) => (typeof x === 'string' ? x : '');
  return (
    <AdminLayout title={title} csrf={props.csrf}>
      <h1>{title}</h1>
      <Flash message={props.error} error />
      <form method="post" action={props.id ? `${base}/notifications/${props.id}` : `${base}/notifications`} class="edit">
        <CsrfField token={props.csrf} />
        <div>
          <label for="n-name">Name (letters, digits, dot, dash)</label>
          <input id="n-name" name="name" value={str(v.name)} required />
        </div>
        <div style="grid-column: span 2">
          <label for="n-subject">Subject</label>
          <input id="n-subject" name="subject" value={str(v.subject)} required />
        </div>
        <div>
          <label>
            <input type="checkbox" name="active" checked={v.active !== false && v.active !== ''} /> Active (sent to new buyers)
          </label>
        </div>
        <div style="grid-column: 1 / -1">
          <label for="n-text">Text body</label>
          <textarea id="n-text" name="textBody" required>
            {str(v.textBody)}
          </textarea>
        </div>
        <div style="grid-column: 1 / -1">
          <label for="n-html">HTML body (optional)</label>
          <textarea id="n-html" name="htmlBody">
            {str(v.htmlBody)}
          </textarea>
        </div>
        <div>
          <button type="submit">{props.id ? 'Save notification' : 'Add notification'}</button>
        </div>
      </form>
      <p>
        <a href={base}>Back to the package</a>
      </p>
    </AdminLayout>
  );
}
