// /api/admin/packages: packages as JSON, create and replace, add a file by path inside FILES_DIR,
// the buyers (JSON, or CSV with ?format=csv), and the bulk actions.
import { Hono, type Context } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { AppDeps } from '../deps';
import { buyNowButtonHtml } from '../../paypal/button-form';
import { checkoutButtonSettings, checkoutSnippet } from '../../paypal/checkout-button';
import { buyersCsv } from './buyers-csv';
import { bulkInputSchema, bulkStatus, startBulk } from './bulk-start';
import { noPackageJson, unlessRefused, validationError } from './refusals';
import { addFileFromStore, FileInputError } from './package-file-input';
import { packageBuyers } from '../../db/invoices';
import { findPackage, listPackages, packageNotifications, setFileActive, setNotificationActive } from '../../db/packages';
import { addNotification, editNotification, NotificationInputError, notificationInputSchema } from './notification-queries';
import { createPackage, PackageInputError, packageDetail, packageInputSchema, updatePackage } from './package-queries';

const noNotification = (item: string, id: number) => ({ error: `Package ${item} has no notification ${id}; list them with GET /api/admin/packages/${item}/notifications.` });
/** A row id in a path: a positive whole number. */
export const rowId = (what: string) => z.coerce.number({ error: `must be the ${what}'s number` }).int(`must be the ${what}'s number`).positive(`must be the ${what}'s number`);

const notSaved = (c: Context) => (why: string) => c.json({ error: `Not saved: ${why}.` }, 400);

export function packageApi({ config, pool, temporal }: AppDeps) {
  const app = new Hono();
  const buttonSettings = { mode: config.paypal.mode, simulatorUrl: config.paypal.simulatorUrl, business: config.paypal.receiverEmail, publicUrl: config.publicUrl };

  app.get('/api/admin/packages', async (c) => c.json({ packages: await listPackages(pool) }));

  app.post('/api/admin/packages', zValidator('json', packageInputSchema, validationError), async (c) => {
    const input = c.req.valid('json');
    return unlessRefused(
      PackageInputError,
      async () => {
        if ((await createPackage(pool, input)) === undefined) return c.json({ error: `Item number ${input.itemNumber} is taken; pick another.` }, 409);
        return c.json(await packageDetail(pool, input.itemNumber), 201);
      },
      notSaved(c),
    );
  });

  app.get('/api/admin/packages/:item', async (c) => {
    const found = await packageDetail(pool, c.req.param('item'));
    if (!found) return noPackageJson(c, c.req.param('item'));
    const orders = checkoutButtonSettings(config);
    return c.json({ ...found, buttonHtml: await buyNowButtonHtml(found.pkg, buttonSettings), checkoutHtml: orders ? await checkoutSnippet(found.pkg, orders) : null });
  });

  app.put('/api/admin/packages/:item', zValidator('json', packageInputSchema.omit({ itemNumber: true }), validationError), async (c) => {
    const item = c.req.param('item');
    return unlessRefused(
      PackageInputError,
      async () => {
        if (!(await updatePackage(pool, item, { ...c.req.valid('json'), itemNumber: item }))) return noPackageJson(c, item);
        return c.json(await packageDetail(pool, item));
      },
      notSaved(c),
    );
  });

  app.post('/api/admin/packages/:item/files', zValidator('json', z.object({ path: storableText().min(1).max(1000), name: storableText().max(200).optional() }), validationError), async (c) => {
    const pkg = await findPackage(pool, c.req.param('item'));
    if (!pkg) return noPackageJson(c, c.req.param('item'));
    const { path, name } = c.req.valid('json');
    return unlessRefused(FileInputError, async () => c.json({ file: await addFileFromStore(pool, config.filesDir, pkg, path, name) }, 201), (why) => c.json({ error: why }, 400));
  });

  // Retiring a file: new buyers no longer get it; invoices keyed for it keep it (db/packages.ts invoiceKeyFiles).
  app.put(
    '/api/admin/packages/:item/files/:id',
    zValidator('param', z.object({ item: storableText(), id: rowId('file') }), validationError),
    zValidator('json', z.object({ active: z.boolean({ error: 'must be true (on offer) or false (retired)' }) }), validationError),
    async (c) => {
      const { item, id } = c.req.valid('param');
      const pkg = await findPackage(pool, item);
      if (!pkg) return noPackageJson(c, item);
      if (!(await setFileActive(pool, pkg.id, id, c.req.valid('json').active))) return c.json({ error: `Package ${item} has no file ${id}; see GET /api/admin/packages/${item}.` }, 404);
      return c.json(await packageDetail(pool, item));
    },
  );

  app.get('/api/admin/packages/:item/notifications', async (c) => {
    const pkg = await findPackage(pool, c.req.param('item'));
    if (!pkg) return noPackageJson(c, c.req.param('item'));
    return c.json({ notifications: await packageNotifications(pool, pkg.id) });
  });

  app.post('/api/admin/packages/:item/notifications', zValidator('json', notificationInputSchema, validationError), async (c) => {
    const pkg = await findPackage(pool, c.req.param('item'));
    if (!pkg) return noPackageJson(c, c.req.param('item'));
    return unlessRefused(NotificationInputError, async () => c.json({ notification: await addNotification(pool, pkg.id, c.req.valid('json')) }, 201), notSaved(c));
  });

  app.put(
    '/api/admin/packages/:item/notifications/:id',
    zValidator('param', z.object({ item: storableText(), id: rowId('notification') }), validationError),
    zValidator('json', notificationInputSchema, validationError),
    async (c) => {
      const { item, id } = c.req.valid('param');
      const pkg = await findPackage(pool, item);
      if (!pkg) return noPackageJson(c, item);
      return unlessRefused(
        NotificationInputError,
        async () => {
          const row = await editNotification(pool, pkg.id, id, c.req.valid('json'));
          return row ? c.json({ notification: row }) : c.json(noNotification(item, id), 404);
        },
        notSaved(c),
      );
    },
  );

  for (const [path, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const) {
    app.post(`/api/admin/packages/:item/notifications/:id/${path}`, zValidator('param', z.object({ item: storableText(), id: rowId('notification') }), validationError), async (c) => {
      const { item, id } = c.req.valid('param');
      const pkg = await findPackage(pool, item);
      if (!pkg) return noPackageJson(c, item);
      if (!(await setNotificationActive(pool, pkg.id, id, active))) return c.json(noNotification(item, id), 404);
      return c.json({ notifications: await packageNotifications(pool, pkg.id) });
    });
  }

  app.get('/api/admin/packages/:item/buyers', async (c) => {
    const item = c.req.param('item');
    if (!(await findPackage(pool, item))) return noPackageJson(c, item);
    const buyers = await packageBuyers(pool, item);
    if (c.req.query('format') === 'csv') return c.body(buyersCsv(buyers), 200, { 'Content-Type': 'text/csv; charset=utf-8' });
    return c.json({ buyers });
  });

  for (const [path, kind] of [
    ['extend', 'bulkExtendKeys'],
    ['new-version', 'bulkNewVersion'],
  ] as const) {
    app.post(`/api/admin/packages/:item/bulk/${path}`, zValidator('json', bulkInputSchema, validationError), async (c) => {
      const pkg = await findPackage(pool, c.req.param('item'));
      if (!pkg) return noPackageJson(c, c.req.param('item'));
      try {
        const workflowId = await startBulk({ pool, temporal, taskQueue: config.temporal.taskQueue }, kind, pkg, c.req.valid('json'), 'admin (api)');
        return c.json({ workflowId, progressUrl: `/api/admin/bulk/${encodeURIComponent(workflowId)}` }, 202);
      } catch (error) {
        return c.json({ error: `Not started: ${error instanceof Error ? error.message : String(error)}` }, 503);
      }
    });
  }

  app.get('/api/admin/bulk/:workflowId', async (c) => {
    const status = await bulkStatus(temporal, c.req.param('workflowId'));
    return status ? c.json(status) : c.json({ error: 'There is no bulk action with that workflow id.' }, 404);
  });

  return app;
}
