// Checks a value against PayPal's own OpenAPI descriptions (the JSON files beside this module), so
// the simulator's answers and Keyship's requests are held to PayPal's field names and enums. Ajv
// (JSON Schema 2019-09) does the validating; this module only turns OpenAPI 3.0 into JSON Schema and
// makes it strict: PayPal's schemas allow any extra field, which would let a misspelt name pass.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2019, { type ValidateFunction } from 'ajv/dist/2019';
import addFormats from 'ajv-formats';

export type SpecFile = 'checkout_orders_v2' | 'payments_payment_v2' | 'customer_disputes_v1' | 'notifications_webhooks_v1';

export type Verdict = { ok: true } | { ok: false; errors: string[] };

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** OpenAPI words JSON Schema does not know, and examples, which are not rules. */
const dropped = new Set(['example', 'examples', 'xml', 'externalDocs', 'discriminator', 'nullable']);

/**
 * Where PayPal's answers carry more than its schemas name. Error details answer a `description`
 * that `error_details` omits (each issue's own schema spells its text, so it is still checked).
 */
const knownGaps: Record<string, Schema> = {
  error_details: { description: { type: 'string' } },
};

class Converter {
  /** `refBase` is where a converted $ref points: `#/$defs/` inside the file's schema, `<file>#/$defs/` from outside it. */
  constructor(
    private readonly components: Record<string, Schema>,
    private readonly refBase = '#/$defs/',
  ) {}

  private resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    const name = ref.replace('#/components/schemas/', '');
    const found = this.components[name];
    if (!found) throw new Error(`PayPal's OpenAPI description names ${ref}, which it does not define`);
    return this.withGaps(name, found);
  }

  withGaps(name: string, schema: Schema): Schema {
    const extra = knownGaps[name];
    return extra ? { ...schema, properties: { ...(schema.properties as Schema), ...extra } } : schema;
  }

  /** allOf branches merged into one object schema, so one `unevaluatedProperties` sees every field. */
  private merge(a: Schema, b: Schema): Schema {
    const left = this.flatten(this.resolve(a));
    const right = this.flatten(this.resolve(b));
    const out: Schema = { ...left };
    for (const [key, value] of Object.entries(right)) {
      const mine = out[key];
      if (mine === undefined) out[key] = value;
      else if (key === 'properties') {
        const props: Schema = { ...(mine as Schema) };
        for (const [name, sub] of Object.entries(value as Schema)) {
          props[name] = props[name] === undefined || JSON.stringify(props[name]) === JSON.stringify(sub) ? sub : this.merge(props[name] as Schema, sub as Schema);
        }
        out.properties = props;
      } else if (key === 'required') out.required = [...new Set([...(mine as string[]), ...(value as string[])])];
      else if (key === 'items') out.items = this.merge(mine as Schema, value as Schema);
      else if ((key === 'anyOf' || key === 'oneOf') && JSON.stringify(mine) !== JSON.stringify(value)) {
        out.allOf = [...((out.allOf as Schema[] | undefined) ?? []), { [key]: value }];
      } else out[key] = value;
    }
    return out;
  }

  private flatten(schema: Schema): Schema {
    if (!Array.isArray(schema.allOf)) return schema;
    const { allOf, ...rest } = schema;
    return (allOf as Schema[]).reduce<Schema>((merged, branch) => this.merge(merged, branch), rest);
  }

  /** OpenAPI schema -> strict JSON Schema; `partial` for an anyOf/oneOf branch that only narrows its parent. */
  convert(input: unknown, partial = false): unknown {
    if (Array.isArray(input)) return input.map((v) => this.convert(v));
    if (!isObject(input)) return input;
    if (typeof input.$ref === 'string') return { $ref: input.$ref.replace('#/components/schemas/', this.refBase) };
    const schema = this.flatten(input);
    const out: Schema = {};
    for (const [key, value] of Object.entries(schema)) {
      if (dropped.has(key) || key.startsWith('x-')) continue;
      if (key === 'properties' || key === 'patternProperties') {
        out[key] = Object.fromEntries(Object.entries(value as Schema).map(([name, sub]) => [name, this.convert(sub)]));
      } else if (key === 'anyOf' || key === 'oneOf') {
        out[key] = (value as Schema[]).map((branch) => this.convert(branch, branch.type === undefined && branch.$ref === undefined));
      } else if (key === 'enum' || key === 'required' || key === 'const' || key === 'default') out[key] = value;
      else out[key] = this.convert(value);
    }
    if (schema.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
    const objectLike = out.properties !== undefined || out.type === 'object';
    const open = out.additionalProperties !== undefined || out.patternProperties !== undefined;
    if (objectLike && out.properties !== undefined && !open && !partial) out.unevaluatedProperties = false;
    return out;
  }
}

const here = __dirname;
const documents = new Map<SpecFile, { ajv: Ajv2019; spec: Schema; components: Record<string, Schema>; compiled: Map<string, ValidateFunction> }>();

function load(file: SpecFile) {
  const known = documents.get(file);
  if (known) return known;
  const spec = JSON.parse(readFileSync(path.join(here, `${file}.json`), 'utf8')) as Schema;
  const components = ((spec.components as Schema | undefined)?.schemas ?? {}) as Record<string, Schema>;
  const converter = new Converter(components);
  const defs = Object.fromEntries(Object.entries(components).map(([name, schema]) => [name, converter.convert(converter.withGaps(name, schema))]));
  const ajv = new Ajv2019({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, strictTuples: false, allowUnionTypes: true, unicodeRegExp: false });
  addFormats(ajv);
  // PayPal's own formats (ppaas_date_time_v3, ...) come with a pattern that does the checking.
  const formats = new Set<string>();
  JSON.stringify(spec, (key, value: unknown) => {
    if (key === 'format' && typeof value === 'string') formats.add(value);
    return value;
  });
  for (const format of formats) if (!ajv.formats[format]) ajv.addFormat(format, true);
  ajv.addSchema({ $id: file, $defs: defs });
  const entry = { ajv, spec, components, compiled: new Map<string, ValidateFunction>() };
  documents.set(file, entry);
  return entry;
}

/** The schema an operation names: `orders.create request`, `orders.capture 201`, `captures.refund 422`. */
function operationSchema(spec: Schema, target: string): unknown {
  const [operationId, part] = target.split(' ');
  for (const item of Object.values((spec.paths ?? {}) as Record<string, Schema>)) {
    for (const operation of Object.values(item)) {
      if (!isObject(operation) || operation.operationId !== operationId) continue;
      const body = part === 'request' ? (operation.requestBody as Schema | undefined) : ((operation.responses as Schema | undefined)?.[part ?? ''] as Schema | undefined);
      const schema = ((body?.content as Schema | undefined)?.['application/json'] as Schema | undefined)?.schema;
      if (!schema) throw new Error(`PayPal's ${operationId} has no JSON ${part === 'request' ? 'request body' : `answer ${part}`}`);
      return schema;
    }
  }
  throw new Error(`PayPal's OpenAPI description has no operation ${operationId}`);
}

/**
 * Does `value` agree with PayPal's OpenAPI description? `target` is a component schema's name (`order`,
 * `capture-2`, `refund`, `dispute`, `error_404`) or an operation and its part (`orders.create request`,
 * `orders.capture 422`). Every object is closed: a field PayPal does not name fails.
 */
export function validateAgainst(file: SpecFile, target: string, value: unknown): Verdict {
  const doc = load(file);
  let validate = doc.compiled.get(target);
  if (!validate) {
    if (target.includes(' ')) {
      validate = doc.ajv.compile(new Converter(doc.components, `${file}#/$defs/`).convert(operationSchema(doc.spec, target)) as Schema);
    } else {
      if (!doc.components[target]) throw new Error(`PayPal's ${file} defines no schema ${target}`);
      validate = doc.ajv.compile({ $ref: `${file}#/$defs/${target}` });
    }
    doc.compiled.set(target, validate);
  }
  if (validate(value)) return { ok: true };
  const errors = (validate.errors ?? []).map((e) => {
    const params = e.params as { unevaluatedProperty?: string; allowedValues?: unknown[] };
    const detail = params.unevaluatedProperty ?? (params.allowedValues ? JSON.stringify(params.allowedValues) : undefined);
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${detail ? `: ${detail}` : ''}`;
  });
  // A failed anyOf (an error's issue) names every branch it tried: the first few say enough.
  return { ok: false, errors: errors.length > 12 ? [...errors.slice(0, 12), `... and ${errors.length - 12} more`] : errors };
}
