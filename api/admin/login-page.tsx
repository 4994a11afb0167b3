// The admin login form: the ADMIN_TOKEN, nothing else.
import { AdminLayout, Flash } from './layout';

export function LoginPage(props: { next?: string; error?: string }) {
  return (
    <AdminLayout title="Log in">
      <h1>Log in</h1>
      <Flash message={props.error} error />
      <form method="post" action="/admin/login" class="edit">
        <div>
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required />
        </div>
        <input type="hidden" name="next" value={props.next ?? '/admin'} />
        <div>
          <button type="submit">Log in</button>
        </div>
      </form>
      <p class="muted">
        The token is ADMIN_TOKEN; under <code>npm start</code> it is in <code>.data/admin-token</code>.
      </p>
    </AdminLayout>
  );
}
