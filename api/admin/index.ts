// The admin: pages under /admin (session cookie, CSRF-checked forms) and JSON under /api/admin
// (Bearer ADMIN_TOKEN). One small app per resource; the guards sit in front of all of them, so a
// route added to any of these apps is protected without doing anything.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppDeps } from '../deps';
import { accountApi } from './accounts-api';
import { accountPages } from './accounts-pages';
import { attentionApi } from './attention-api';
import { attentionPages } from './attention-pages';
import { bulkPages } from './bulk-pages';
import { eventApi } from './events-api';
import { eventPages } from './events-pages';
import { adminSigner, apiGuard, pageGuard, type AdminEnv } from './guards';
import { invoiceApi } from './invoices-api';
import { invoicePages } from './invoices-pages';
import { licenseApi } from './licenses-api';
import { licensePages } from './licenses-pages';
import { loginRoutes } from './login';
import { messageApi } from './messages-api';
import { messagePages } from './messages-pages';
import { packageApi } from './packages-api';
import { packagePages } from './packages-pages';
import { supportCredentialRoutes } from './support-credentials';

/** Uploads above this go through FILES_DIR and "add by path" instead. */
export const maxUploadBytes = 200 * 1024 * 1024;

export function adminRoutes(deps: AppDeps) {
  const signer = adminSigner(deps.config);
  const app = new Hono<AdminEnv>();
  const limit = bodyLimit({
    maxSize: maxUploadBytes,
    onError: (c) => c.text(`Too large: uploads stop at ${maxUploadBytes / 1024 / 1024} MB; copy the file into FILES_DIR and add it by path.`, 413),
  });
  for (const path of ['/admin', '/admin/*']) app.use(path, limit, pageGuard(deps.config, signer));
  for (const path of ['/api/admin', '/api/admin/*']) app.use(path, apiGuard(deps.config));
  app.route('/', loginRoutes(deps.config, signer));
  app.route('/', attentionPages(deps));
  app.route('/', invoicePages(deps));
  app.route('/', accountPages(deps));
  app.route('/', packagePages(deps));
  app.route('/', bulkPages(deps));
  app.route('/', messagePages(deps));
  app.route('/', eventPages(deps));
  app.route('/', licensePages(deps));
  app.route('/', attentionApi(deps));
  app.route('/', invoiceApi(deps));
  app.route('/', accountApi(deps));
  app.route('/', packageApi(deps));
  app.route('/', messageApi(deps));
  app.route('/', eventApi(deps));
  app.route('/', supportCredentialRoutes(deps));
  app.route('/', licenseApi(deps));
  return app;
}
