// /admin/packages: list, detail, create, edit, add a file, the buyers' CSV, and starting the bulk
// actions of a package.
import { Hono, type Context } from 'hono';
import type { AppDeps } from '../deps';
import { renderPage } from '../pages/render';
import { buyNowButtonHtml } from '../../paypal/button-form';
import { checkoutButtonSettings, checkoutSnippet } from '../../paypal/checkout-button';
import { buyersCsv } from './buyers-csv';
import { bulkInputSchema, startBulk } from './bulk-start';
import type { AdminEnv } from './guards';
import { addFileFromStore, addUploadedFile, FileInputError } from './package-file-input';
import { packageBuyers } from '../../db/invoices';
import { findNotification, findPackage, listPackages, packageFiles, packageNotifications, setFileActive, setNotificationActive, type PackageRow } from '../../db/packages';
import { createPackage, PackageInputError, packageDetail, packageInputSchema, updatePackage } from './package-queries';
import { packageLicenseSection } from './license-actions';
import { formInput, formValues, postedValues } from './package-form';
import { addNotification, editNotification, NotificationInputError, notificationInputSchema } from './notification-queries';
import { issueList, noPackage, unlessRefused } from './refusals';
import { NotificationFormPage, PackageDetailPage, PackageFormPage, PackageListPage, type NotificationFormValues } from './package-views';

export function packagePages({ config, pool, temporal }: AppDeps) {
  const app = new Hono<AdminEnv>();
  const buttonSettings = { mode: config.paypal.mode, simulatorUrl: config.paypal.simulatorUrl, business: config.paypal.receiverEmail, publicUrl: config.publicUrl };

  const showPackage = async (c: Context<AdminEnv>, itemNumber: string, extra: { flash?: string; error?: string } = {}, status: 200 | 400 | 404 | 409 | 503 = 200) => {
    const found = await packageDetail(pool, itemNumber);
    if (!found) return noPackage(c, itemNumber);
    const buttonHtml = config.paypal.checkout === 'orders' ? undefined : await buyNowButtonHtml(found.pkg, buttonSettings);
    const orders = checkoutButtonSettings(config);
    const checkoutHtml = orders ? await checkoutSnippet(found.pkg, orders) : undefined;
    const defaultDays = Math.max(1, Math.ceil((found.pkg.keyTtlSeconds ?? config.keyTtlSeconds) / 86400));
    const licenses = await packageLicenseSection(pool, config, c.var.csrf, found.pkg.itemNumber, c.req.query());
    return renderPage(c, <PackageDetailPage csrf={c.var.csrf} {...found} buttonHtml={buttonHtml} checkoutHtml={checkoutHtml} defaultDays={defaultDays} licenses={licenses} {...extra} />, status);
  };

  /** Answers with `handle` when the path's package exists (its row only: one query), else 404. */
  const withPackage = (handle: (c: Context<AdminEnv>, found: { pkg: PackageRow }) => Promise<Response>) => async (c: Context<AdminEnv>) => {
    const item = c.req.param('item')!;
    const pkg = await findPackage(pool, item);
    return pkg ? handle(c, { pkg }) : noPackage(c, item);
  };

  app.get('/admin/packages', async (c) => renderPage(c, <PackageListPage csrf={c.var.csrf} packages={await listPackages(pool)} />));

  app.get('/admin/packages/new', (c) => renderPage(c, <PackageFormPage csrf={c.var.csrf} values={{ active: true }} />));

  app.post('/admin/packages', async (c) => {
    const body = await c.req.parseBody();
    const parsed = packageInputSchema.safeParse(formInput(body));
    const values = postedValues(body);
    if (!parsed.success) return renderPage(c, <PackageFormPage csrf={c.var.csrf} values={values} error={`Not saved: ${issueList(parsed.error)}.`} />, 400);
    return unlessRefused(
      PackageInputError,
      async () => {
        if ((await createPackage(pool, parsed.data)) === undefined) {
          return renderPage(c, <PackageFormPage csrf={c.var.csrf} values={values} error={`Not saved: item number ${parsed.data.itemNumber} is taken; pick another.`} />, 409);
        }
        return c.redirect(`/admin/packages/${encodeURIComponent(parsed.data.itemNumber)}`, 303);
      },
      (why) => renderPage(c, <PackageFormPage csrf={c.var.csrf} values={values} error={`Not saved: ${why}.`} />, 400),
    );
  });

  app.get('/admin/packages/:item', (c) => showPackage(c, c.req.param('item')));

  app.get('/admin/packages/:item/edit', withPackage(async (c, found) => renderPage(c, <PackageFormPage csrf={c.var.csrf} editing={found.pkg.itemNumber} values={formValues(found.pkg)} />)));

  app.post('/admin/packages/:item', async (c) => {
    const item = c.req.param('item');
    const body = await c.req.parseBody();
    const parsed = packageInputSchema.safeParse({ ...formInput(body), itemNumber: item });
    const values = { ...postedValues(body), itemNumber: item };
    if (!parsed.success) return renderPage(c, <PackageFormPage csrf={c.var.csrf} editing={item} values={values} error={`Not saved: ${issueList(parsed.error)}.`} />, 400);
    return unlessRefused(
      PackageInputError,
      async () => ((await updatePackage(pool, item, parsed.data)) ? showPackage(c, item, { flash: 'Saved.' }) : noPackage(c, item)),
      (why) => renderPage(c, <PackageFormPage csrf={c.var.csrf} editing={item} values={values} error={`Not saved: ${why}.`} />, 400),
    );
  });

  // Retire a file (new buyers no longer get it; invoices keyed for it keep it) or bring it back.
  for (const [path, active] of [
    ['retire', false],
    ['restore', true],
  ] as const) {
    app.post(`/admin/packages/:item/files/:id/${path}`, withPackage(async (c, found) => {
      const file = (await packageFiles(pool, found.pkg.id)).find((f) => String(f.id) === c.req.param('id'));
      if (!file || !(await setFileActive(pool, found.pkg.id, file.id, active))) return showPackage(c, found.pkg.itemNumber, { error: 'That file is not part of this package; nothing changed.' }, 404);
      const flash = active ? `${file.name} is offered again: new buyers get it.` : `${file.name} is retired: new buyers no longer get it; invoices that had it keep it.`;
      return showPackage(c, found.pkg.itemNumber, { flash });
    }));
  }

  // The package's other notifications: add, edit, deactivate and activate.
  const notificationPage = async (c: Context<AdminEnv>, item: string, id: number | undefined, values: NotificationFormValues, error?: string, status: 200 | 400 | 404 = 200) =>
    renderPage(c, <NotificationFormPage csrf={c.var.csrf} itemNumber={item} id={id} values={values} error={error} />, status);
  const postedNotification = (body: Record<string, unknown>): NotificationFormValues => ({
    name: typeof body.name === 'string' ? body.name : '',
    subject: typeof body.subject === 'string' ? body.subject : '',
    textBody: typeof body.textBody === 'string' ? body.textBody : '',
    htmlBody: typeof body.htmlBody === 'string' ? body.htmlBody : '',
    active: body.active === 'on',
  });
  // A form's unticked box is absent: inactive (JSON's absent `active` means active).
  const notificationForm = (body: Record<string, unknown>) => notificationInputSchema.safeParse({ ...body, active: body.active === 'on' });
  const noNotification = (c: Context<AdminEnv>, item: string) => c.text(`Package ${item} has no notification ${c.req.param('id')}; see /admin/packages/${item}.`, 404);

  app.get('/admin/packages/:item/notifications/new', withPackage(async (c, found) => notificationPage(c, found.pkg.itemNumber, undefined, { active: true })));

  app.post('/admin/packages/:item/notifications', withPackage(async (c, found) => {
    const body = await c.req.parseBody();
    const parsed = notificationForm(body);
    const notSaved = (why: string) => notificationPage(c, found.pkg.itemNumber, undefined, postedNotification(body), `Not saved: ${why}.`, 400);
    if (!parsed.success) return notSaved(issueList(parsed.error));
    return unlessRefused(
      NotificationInputError,
      async () => {
        const row = await addNotification(pool, found.pkg.id, parsed.data);
        return showPackage(c, found.pkg.itemNumber, { flash: `Notification ${row.name} added.` });
      },
      notSaved,
    );
  }));

  app.get('/admin/packages/:item/notifications/:id', withPackage(async (c, found) => {
    const id = Number(c.req.param('id'));
    const row = Number.isSafeInteger(id) ? await findNotification(pool, found.pkg.id, id) : undefined;
    if (!row) return noNotification(c, found.pkg.itemNumber);
    return notificationPage(c, found.pkg.itemNumber, row.id, { ...row, htmlBody: row.htmlBody ?? '' });
  }));

  app.post('/admin/packages/:item/notifications/:id', withPackage(async (c, found) => {
    const id = Number(c.req.param('id'));
    const body = await c.req.parseBody();
    const parsed = notificationForm(body);
    const notSaved = (why: string) => notificationPage(c, found.pkg.itemNumber, id, postedNotification(body), `Not saved: ${why}.`, 400);
    if (!parsed.success) return notSaved(issueList(parsed.error));
    return unlessRefused(
      NotificationInputError,
      async () => {
        const row = Number.isSafeInteger(id) ? await editNotification(pool, found.pkg.id, id, parsed.data) : undefined;
        if (!row) return noNotification(c, found.pkg.itemNumber);
        return showPackage(c, found.pkg.itemNumber, { flash: `Notification ${row.name} saved.` });
      },
      notSaved,
    );
  }));

  for (const [path, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const) {
    app.post(`/admin/packages/:item/notifications/:id/${path}`, withPackage(async (c, found) => {
      const row = (await packageNotifications(pool, found.pkg.id)).find((n) => String(n.id) === c.req.param('id'));
      if (!row || !(await setNotificationActive(pool, found.pkg.id, row.id, active))) return showPackage(c, found.pkg.itemNumber, { error: 'That notification is not part of this package; nothing changed.' }, 404);
      return showPackage(c, found.pkg.itemNumber, { flash: `Notification ${row.name} ${active ? 'is active again' : 'is deactivated: new buyers no longer get it'}.` });
    }));
  }

  app.post('/admin/packages/:item/files', withPackage(async (c, found) => {
    const body = await c.req.parseBody();
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const upload = body.upload instanceof File && body.upload.size > 0 ? body.upload : undefined;
    const relative = typeof body.path === 'string' ? body.path.trim() : '';
    if (!upload && !relative) return showPackage(c, found.pkg.itemNumber, { error: 'Choose a file to upload or give a path inside FILES_DIR.' }, 400);
    return unlessRefused(
      FileInputError,
      async () => {
        const added = upload ? await addUploadedFile(pool, config.filesDir, found.pkg, upload, name) : await addFileFromStore(pool, config.filesDir, found.pkg, relative, name);
        return showPackage(c, found.pkg.itemNumber, { flash: `File added: ${added.size} bytes, SHA-256 ${added.sha256}.` });
      },
      (why) => showPackage(c, found.pkg.itemNumber, { error: why }, 400),
    );
  }));

  app.get('/admin/packages/:item/buyers.csv', withPackage(async (c, found) =>
    c.body(buyersCsv(await packageBuyers(pool, c.req.param('item')!)), 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="buyers-${found.pkg.itemNumber}.csv"`,
      'Cache-Control': 'no-store',
    }),
  ));

  for (const [path, kind] of [
    ['extend', 'bulkExtendKeys'],
    ['new-version', 'bulkNewVersion'],
  ] as const) {
    app.post(`/admin/packages/:item/bulk/${path}`, withPackage(async (c, found) => {
      const parsed = bulkInputSchema.safeParse(await c.req.parseBody());
      if (!parsed.success) return showPackage(c, found.pkg.itemNumber, { error: `Not started: ${issueList(parsed.error)}.` }, 400);
      try {
        const workflowId = await startBulk({ pool, temporal, taskQueue: config.temporal.taskQueue }, kind, found.pkg, parsed.data, 'admin (web)');
        return c.redirect(`/admin/bulk/${encodeURIComponent(workflowId)}`, 303);
      } catch (error) {
        return showPackage(c, found.pkg.itemNumber, { error: `Not started: ${error instanceof Error ? error.message : String(error)}` }, 503);
      }
    }));
  }

  return app;
}
