// The seller's upload of support logins: one credential per line, refused whole with line numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeProblems, parseCredentialLines } from '../../domain/support-credential-lines';
import { generatedLogin, generatedPassword } from '../../kinds/support-credentials';

test('a tab, a colon or a space separates login and password; a line without one is a single token', () => {
  const parsed = parseCredentialLines('\uFEFF# pool of March\r\nalice:pw one\r\n\r\nbob\tpass:word with spaces\ncarol pw:3\nTOKEN-0001\n   \n');
  assert.deepEqual(parsed, {
    ok: true,
    credentials: [
      { line: 2, login: 'alice', password: 'pw one' },
      { line: 4, login: 'bob', password: 'pass:word with spaces' },
      { line: 5, login: 'carol', password: 'pw:3' },
      { line: 6, login: 'TOKEN-0001', password: null },
    ],
  });
});

test('a login twice (ignoring case) or a malformed line refuses the upload, each with its line number', () => {
  const parsed = parseCredentialLines('alice:1\n:nologin\nbob:\nAlice:2\nx\u0007y\n' + `${'z'.repeat(201)}\n`);
  assert.equal(parsed.ok, false);
  assert.equal(
    describeProblems(parsed.ok ? [] : parsed.problems),
    'line 2 has a password but no login before the separator; line 3 has a login (bob) but nothing after the separator; line 4 repeats the login Alice of line 1; line 5 holds a control character; line 6 is a token longer than 200 characters',
  );
});

test('an upload of nothing but blank and comment lines is refused', () => {
  const parsed = parseCredentialLines('\n# only a comment\n');
  assert.equal(parsed.ok, false);
  assert.match(describeProblems(parsed.ok ? [] : parsed.problems), /^the upload holds no credential/);
});

test('generated logins fill the pattern; text without placeholders is a prefix; passwords use the unambiguous alphabet', () => {
  assert.equal(generatedLogin(undefined, 'KS-001001', 2), 'support-KS-001001-2');
  assert.equal(generatedLogin('desk-', 'KS-001001', 1), 'desk-KS-001001-1');
  assert.match(generatedLogin('acme-{random}', 'KS-001001', 1), /^acme-[a-z2-9]{8}$/);
  const passwords = Array.from({ length: 50 }, () => generatedPassword(24));
  for (const p of passwords) assert.match(p, /^[A-HJ-NP-Za-km-z2-9]{24}$/);
  assert.equal(new Set(passwords).size, 50);
});
