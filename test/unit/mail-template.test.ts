// The e-mail template format (activities/mail-template.ts): values escaped in HTML bodies only,
// lists and conditions, lines holding only a section tag, a subject that stays one line, and a
// template mistake stopped with a sentence instead of an e-mail with a hole in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderMailSource, renderTemplate, TemplateError } from '../../domain/mail-template';

const context = { name: '<Ann & "Bo">', files: [{ n: 'a' }, { n: 'b' }], none: [], on: true };
const text = (template: string) => renderTemplate(template, context, { html: false, label: 't' });
const html = (template: string) => renderTemplate(template, context, { html: true, label: 't' });

test('templates escape HTML, repeat lists, and name unknown names', () => {
  assert.equal(html('Hi {{name}}'), 'Hi &lt;Ann &amp; &quot;Bo&quot;&gt;');
  assert.equal(text('Hi {{name}}'), 'Hi <Ann & "Bo">');
  assert.equal(text('{{#files}}[{{n}}]{{/files}}{{^none}}empty{{/none}}{{#on}}!{{/on}}{{! note }}'), '[a][b]empty!');
  assert.equal(text('{{#files}}\n- {{n}}\n{{/files}}\n'), '- a\n- b\n', 'a line holding only a section tag leaves no blank line');
  assert.throws(() => renderTemplate('{{nmae}}', context, { html: false, label: 'delivery.txt' }), (e: Error) => e instanceof TemplateError && /delivery.txt: \{\{nmae\}\} is not a known name; use one of: files, name, none, on/.test(e.message));
  assert.throws(() => text('{{#files}}x'), /never closed/);
  assert.throws(() => html('{{{name}}}'), /not a template tag/, 'no unescaped output');
  const mail = renderMailSource('Subject: Hello {{name}}\n\nBody {{name}}', '<p>{{name}}</p>', context, 'x.txt');
  assert.deepEqual(mail, { subject: 'Hello <Ann & "Bo">', text: 'Body <Ann & "Bo">', html: '<p>&lt;Ann &amp; &quot;Bo&quot;&gt;</p>' });
  assert.throws(() => renderMailSource('Body only', undefined, context, 'x.txt'), /first line must be "Subject: ..."/);
});

test('only names, sections and comments: no raw output, partials, delimiter changes or dotted names', () => {
  for (const tag of ['{{&name}}', '{{> footer}}', '{{=<% %>=}}', '{{files.n}}', '{{two words}}']) {
    assert.throws(() => html(tag), (e: Error) => e instanceof TemplateError && e.message.includes(`"${tag}" is not a template tag`), tag);
  }
  assert.throws(() => text('{{files}}'), /\{\{files\}\} is a list; use \{\{#files\}\}/);
  assert.throws(() => text('{{#files}}{{n}}'), /\{\{#files\}\} is never closed; add \{\{\/files\}\}/);
  assert.throws(() => text('x{{/files}}'), /\{\{\/files\}\} closes nothing open/);
  assert.throws(() => text('Hi {{name'), /a tag is never closed/);
  assert.throws(() => text('{{#on}}{{#files}}{{nope}}{{/files}}{{/on}}'), /\{\{nope\}\} is not a known name; use one of: files, n, name, none, on/, 'inside a list, its elements\' names count too');
});

test('a section shows a set value once, falsy values show nothing, numbers show as written', () => {
  const values = { who: 'Zoë', off: false, zero: 0, empty: '', nothing: null, count: 3 };
  const render = (template: string) => renderTemplate(template, values, { html: true, label: 't' });
  assert.equal(render('Hello{{#who}} {{who}}{{/who}},'), 'Hello Zoë,');
  assert.equal(render('[{{off}}|{{zero}}|{{empty}}|{{nothing}}|{{count}}]'), '[|0|||3]');
  assert.equal(render('{{#off}}a{{/off}}{{#zero}}b{{/zero}}{{#empty}}c{{/empty}}{{#nothing}}d{{/nothing}}'), '');
  assert.equal(render('{{^off}}a{{/off}}{{^zero}}b{{/zero}}{{^empty}}c{{/empty}}{{^nothing}}d{{/nothing}}{{^count}}e{{/count}}'), 'abcd');
});

test('a value with a line break cannot add a header: the subject stays one line', () => {
  const mail = renderMailSource('Subject: Order {{name}}\n\nBody', undefined, { name: 'x\r\nBcc: victim@example.test' }, 'x.txt');
  assert.equal(mail.subject, 'Order x Bcc: victim@example.test');
  assert.equal(mail.html, undefined);
});

test('the shipped delivery template renders a list of files with no stray blank lines', () => {
  const dir = path.resolve(__dirname, '..', '..', 'mail-templates');
  const files = [1, 2].map((i) => ({ name: `file${i}.zip`, size: '1 MB', sizeBytes: i, md5: `m${i}`, sha256: `s${i}`, url: `https://shop.test/d/k${i}?a=1&b=2`, downloadLimit: 3 }));
  const flags = { firstDelivery: true, resent: false, extended: false, regenerated: false, reinstated: false };
  const values = { invoiceNumber: 'KS-000001', txnId: 'T1', firstName: '', packageName: 'Book', supportText: '', expiresAt: '2030-01-01', files, hasFiles: true, parts: [], ...flags };
  const mail = renderMailSource(readFileSync(path.join(dir, 'delivery.txt'), 'utf8'), readFileSync(path.join(dir, 'delivery.html'), 'utf8'), values, 'delivery.txt');
  assert.equal(mail.subject, 'Your download: Book (invoice KS-000001)');
  assert.match(mail.text, /^Hello,\n\nThank you for your purchase\./);
  assert.match(mail.text, /\nfile1\.zip \(1 MB\)\n {2}https:\/\/shop\.test\/d\/k1\?a=1&b=2\n {2}MD5: {5}m1\n {2}SHA-256: s1\n\nfile2\.zip/);
  assert.doesNotMatch(mail.text, /\n\n\n/);
  assert.match(mail.html!, /<a href="https:\/\/shop\.test\/d\/k2\?a=1&amp;b=2">file2\.zip<\/a>/);
});

test('the shipped delivery template carries what a package kind delivers, and speaks of downloads only when there are files', () => {
  const dir = path.resolve(__dirname, '..', '..', 'mail-templates');
  const flags = { firstDelivery: true, resent: false, extended: false, regenerated: false, reinstated: false };
  const parts = [{ title: 'Your ticket', packageName: 'Launch night', note: 'Show the QR code at the door.', lines: [{ label: 'Seat 1', value: 'https://shop.test/t/abc', url: true }] }];
  const values = { invoiceNumber: 'KS-000002', txnId: 'T2', firstName: '', packageName: 'Launch night', supportText: '', expiresAt: '2030-01-01', files: [], hasFiles: false, parts, ...flags };
  const mail = renderMailSource(readFileSync(path.join(dir, 'delivery.txt'), 'utf8'), readFileSync(path.join(dir, 'delivery.html'), 'utf8'), values, 'delivery.txt');
  assert.equal(mail.subject, 'Your purchase: Launch night (invoice KS-000002)');
  assert.match(mail.text, /\nYour ticket: Launch night\n {2}Seat 1: https:\/\/shop\.test\/t\/abc\nShow the QR code at the door\.\n/);
  assert.doesNotMatch(mail.text, /download|sha256sum|links work until/i);
  assert.doesNotMatch(mail.text, /\n\n\n/);
  assert.match(mail.html!, /<a href="https:\/\/shop\.test\/t\/abc">https:\/\/shop\.test\/t\/abc<\/a>/);
});
