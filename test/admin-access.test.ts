// Who may reach the admin: every registered /admin and /api/admin route (enumerated from the app,
// so a new route cannot slip through) answers 401/403 without credentials; the session cookie and
// the Bearer token let the right ones in; a cross-site or token-less form post changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { adminRoutes } from '../api/admin';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { freshDatabase, type TestDatabase } from './harness';
import { startTestApi, type TestApi } from './fixtures/api-server';

const adminToken = 'test-admin-token-0123456789abcdef';

/** A concrete path for a route pattern: numeric params get 1, others a word. */
function concretePath(pattern: string): string {
  return pattern.replace(/:(\w+)\{[^}]*\}/g, '1').replace(/:(\w+)/g, 'X-1');
}

describe('admin access', () => {
  let db: TestDatabase;
  let api: TestApi;

  before(async () => {
    db = await freshDatabase();
    api = await startTestApi({ pool: db.pool, env: { ADMIN_TOKEN: adminToken } });
  });
  after(async () => {
    await api?.close();
    await db?.close();
  });

  test('every admin route refuses a request without credentials (401 or 403)', async () => {
    const deps = {
      config: loadConfig({ ADMIN_TOKEN: adminToken }),
      pool: db.pool,
      temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    } as Parameters<typeof createApp>[0];
    const app = createApp(deps);
    // Every route the admin registers lives under the guarded prefixes, so the filter below sees it.
    const stray = adminRoutes(deps).routes.filter((r) => !/^\/(api\/)?admin(\/|$)/.test(r.path));
    assert.deepEqual(stray.map((r) => `${r.method} ${r.path}`), []);
    const routes = app.routes.filter((r) => r.method !== 'ALL' && /^\/(api\/)?admin(\/|$)/.test(r.path));
    const seen = new Set(routes.map((r) => `${r.method} ${r.path}`));
    assert.ok(seen.size >= 25, `expected the admin's routes, found only: ${[...seen].join(', ')}`);
    // The login form is the one page anyone may see.
    const open = new Set(['GET /admin/login']);
    for (const key of seen) {
      if (open.has(key)) continue;
      const [method, pattern] = key.split(' ') as [string, string];
      const url = api.url + concretePath(pattern);
      const sameOrigin = { Origin: api.url, 'Sec-Fetch-Site': 'same-origin' };
      const bodies: [string, RequestInit][] = [
        ['no credentials', { method, headers: { ...sameOrigin, 'Content-Type': 'application/x-www-form-urlencoded' }, body: method === 'GET' ? undefined : 'x=1' }],
        ['a forged session cookie and a wrong bearer token', {
          method,
          headers: { ...sameOrigin, Cookie: `keyship_admin=${'A'.repeat(24)}.9999999999.${'B'.repeat(43)}`, Authorization: 'Bearer wrong-token-wrong-token', 'Content-Type': 'application/json' },
          body: method === 'GET' ? undefined : '{}',
        }],
      ];
      for (const [what, init] of bodies) {
        const response = await fetch(url, { ...init, redirect: 'manual' });
        await response.arrayBuffer();
        assert.ok([401, 403].includes(response.status), `${key} with ${what} answered ${response.status}`);
      }
    }
    const loginPage = await fetch(`${api.url}/admin/login`);
    assert.equal(loginPage.status, 200);
  });

  async function logIn(): Promise<{ cookie: string; csrf: string }> {
    const login = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { Origin: api.url, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: adminToken, next: '/admin/packages' }),
    });
    assert.equal(login.status, 303);
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Strict/i);
    const cookie = setCookie.split(';')[0]!;
    const page = await (await fetch(`${api.url}/admin/packages/new`, { headers: { Cookie: cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    assert.ok(csrf, 'the form carries a CSRF token');
    return { cookie, csrf };
  }

  const packageForm = (csrf: string | undefined, itemNumber: string) =>
    new URLSearchParams({ ...(csrf ? { _csrf: csrf } : {}), itemNumber, name: 'Forged', price: '1.00', currency: 'USD', active: 'on' });
  const packageCount = async (itemNumber: string) =>
    (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM packages WHERE item_number = $1', [itemNumber])).rows[0]!.n;

  test('a cross-site form post, or one without the session\'s CSRF token, is refused and changes nothing', async () => {
    const { cookie, csrf } = await logIn();
    const post = (headers: Record<string, string>, body: URLSearchParams) =>
      fetch(`${api.url}/admin/packages`, { method: 'POST', redirect: 'manual', headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });

    const crossSite = await post({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }, packageForm(csrf, 'EVIL-1'));
    assert.equal(crossSite.status, 403);
    const noToken = await post({ Origin: api.url, 'Sec-Fetch-Site': 'same-origin' }, packageForm(undefined, 'EVIL-2'));
    assert.equal(noToken.status, 403);
    const otherToken = await post({ Origin: api.url }, packageForm('x'.repeat(43), 'EVIL-3'));
    assert.equal(otherToken.status, 403);
    assert.deepEqual([await packageCount('EVIL-1'), await packageCount('EVIL-2'), await packageCount('EVIL-3')], [0, 0, 0]);

    const good = await post({ Origin: api.url, 'Sec-Fetch-Site': 'same-origin' }, packageForm(csrf, 'GOOD-1'));
    assert.equal(good.status, 303, 'the same form from the admin itself is accepted');
    assert.equal(await packageCount('GOOD-1'), 1);
  });

  test('the JSON API takes the Bearer token, not the session cookie, and validates its input', async () => {
    const { cookie } = await logIn();
    const withCookie = await fetch(`${api.url}/api/admin/packages`, { headers: { Cookie: cookie } });
    assert.equal(withCookie.status, 401);
    const auth = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
    const created = await fetch(`${api.url}/api/admin/packages`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ itemNumber: 'API-1', name: 'By API', price: '9.50', currency: 'eur', keyTtl: '2d', active: true }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const body = (await created.json()) as { pkg: { currency: string; keyTtlSeconds: number } };
    assert.deepEqual([body.pkg.currency, body.pkg.keyTtlSeconds], ['EUR', 172800]);
    const bad = await fetch(`${api.url}/api/admin/packages`, { method: 'POST', headers: auth, body: JSON.stringify({ itemNumber: 'no spaces allowed', price: 'free' }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /itemNumber must be letters/);
  });
});
