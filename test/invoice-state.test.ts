// Rules without servers: the mail template format and money parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMailSource, renderTemplate, TemplateError } from '../activities/mail-template';
import { toCents } from '../activities/packages';

test('templates escape HTML, repeat lists, and name unknown names', () => {
  const context = { name: '<Ann & "Bo">', files: [{ n: 'a' }, { n: 'b' }], none: [], on: true };
  assert.equal(renderTemplate('Hi {{name}}', context, { html: true, label: 't' }), 'Hi &lt;Ann &amp; &quot;Bo&quot;&gt;');
  assert.equal(renderTemplate('Hi {{name}}', context, { html: false, label: 't' }), 'Hi <Ann & "Bo">');
  assert.equal(renderTemplate('{{#files}}[{{n}}]{{/files}}{{^none}}empty{{/none}}{{#on}}!{{/on}}{{! note }}', context, { html: false, label: 't' }), '[a][b]empty!');
  assert.equal(renderTemplate('{{#files}}\n- {{n}}\n{{/files}}\n', context, { html: false, label: 't' }), '- a\n- b\n', 'a line holding only a section tag leaves no blank line');
  assert.throws(() => renderTemplate('{{nmae}}', context, { html: false, label: 'delivery.txt' }), (e: Error) => e instanceof TemplateError && /delivery.txt: \{\{nmae\}\} is not a known name; use one of: files, name, none, on/.test(e.message));
  assert.throws(() => renderTemplate('{{#files}}x', context, { html: false, label: 't' }), /never closed/);
  assert.throws(() => renderTemplate('{{{name}}}', context, { html: true, label: 't' }), /not a template tag/, 'no unescaped output');
  const mail = renderMailSource('Subject: Hello {{name}}\n\nBody {{name}}', '<p>{{name}}</p>', context, 'x.txt');
  assert.deepEqual(mail, { subject: 'Hello <Ann & "Bo">', text: 'Body <Ann & "Bo">', html: '<p>&lt;Ann &amp; &quot;Bo&quot;&gt;</p>' });
  assert.throws(() => renderMailSource('Body only', undefined, context, 'x.txt'), /first line must be "Subject: ..."/);
});

test('amounts become cents without floating point', () => {
  assert.equal(toCents('19.95'), 1995);
  assert.equal(toCents('19.9'), 1990);
  assert.equal(toCents('20'), 2000);
  assert.equal(toCents('-19.95'), -1995);
  assert.equal(toCents('0.07'), 7);
  assert.equal(toCents('1,000.00'), undefined);
  assert.equal(toCents('19.955'), undefined);
});
