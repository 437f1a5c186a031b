/**
 * Validation of a manifest against kwcoco's JSON schema (`coco_schema.json`,
 * a copy of kwcoco's `coco_schema.py` output shipped beside this file so the
 * CLI can use it at run time).
 *
 * The schema has no `$schema` key and uses only draft-07 keywords, which is
 * ajv 8's default draft. It lists `required` properties inside `anyOf`
 * branches without declaring them there, which ajv's strict mode rejects, so
 * the validator is compiled with `strict: false` (the keywords' meaning is
 * unchanged).
 */
import { readFileSync } from 'node:fs';
// ajv is CommonJS; its named `Ajv` export is the class both for tsc (NodeNext) and at run time.
// Loaded on first validation only (it adds ~8 MB to every process that imports the package).
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';

/** Result of `validateManifest`: one readable line per violation. */
export interface ManifestValidation { valid: boolean; errors: string[] }

let compiled: ValidateFunction | undefined;

/** kwcoco's manifest schema, read from coco_schema.json beside this module (a fresh copy each call). */
export function kwcocoSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('./coco_schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}

function validator(): ValidateFunction {
  if (!compiled) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
    compiled = new Ajv({ allErrors: true, strict: false }).compile(kwcocoSchema());
  }
  return compiled;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(top level)' : e.instancePath;
  const params = e.params as Record<string, unknown>;
  let extra = '';
  if (e.keyword === 'additionalProperties') extra = ` (${String(params.additionalProperty)})`;
  else if (e.keyword === 'enum') extra = ` (${JSON.stringify(params.allowedValues)})`;
  return `${where} ${e.message ?? e.keyword}${extra}`;
}

/**
 * Checks a manifest (the plain JSON object) against kwcoco's schema.
 * Errors read like `/images/0/id must be integer`.
 *
 * @example
 * validateManifest({ images: [{ id: 1, file_name: 'a.png' }] }); // { valid: true, errors: [] }
 */
export function validateManifest(obj: unknown): ManifestValidation {
  const validate = validator();
  const valid = validate(obj) as boolean;
  if (valid) return { valid, errors: [] };
  const errors = [...new Set((validate.errors ?? []).map(describe))];
  return { valid, errors };
}
