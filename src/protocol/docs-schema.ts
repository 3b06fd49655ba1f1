import type { TSchema } from '@sinclair/typebox';
import { ERRORS, type ErrorName } from './errors.js';

/** Markdown tables for docs/protocol.md, and the JSON schema → field table renderer. */

export function table(headers: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  return [headers, headers.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

// ---- JSON schema → field table ----------------------------------------------

/** The JSON-schema keywords TypeBox emits that the tables show. */
interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  description?: string;
}

type Row = [field: string, type: string, required: string, constraints: string, description: string];

/**
 * A table of the fields of an object schema, nested objects and array items
 * as dotted rows (`profile.nickname`, `statuses[].userId`); null for an empty
 * object. `notes` override descriptions of top-level fields.
 */
export function renderSchemaTable(schema: TSchema, notes: Record<string, string> = {}): string | null {
  const s = schema as JsonSchema;
  const rows: Row[] = [];
  if (s.properties) {
    for (const [key, child] of Object.entries(s.properties)) {
      addRows(rows, key, child, s.required?.includes(key) ? 'yes' : 'no', notes[key]);
    }
  } else {
    addRows(rows, '(value)', s, 'yes');
  }
  if (rows.length === 0) return null;
  return table(['Field', 'Type', 'Required', 'Constraints', 'Description'], rows);
}

function addRows(rows: Row[], field: string, s: JsonSchema, required: string, note?: string): void {
  rows.push([`\`${field}\``, typeName(s), required, constraints(s).join(', '), note ?? descriptionOf(s)]);
  const obj = objectPart(s);
  if (obj) {
    for (const [key, child] of Object.entries(obj.properties ?? {})) {
      addRows(rows, `${field}.${key}`, child, obj.required?.includes(key) ? 'yes' : 'no');
    }
    return;
  }
  const items = arrayPart(s)?.items;
  if (!items) return;
  const itemObj = objectPart(items);
  if (itemObj) {
    for (const [key, child] of Object.entries(itemObj.properties ?? {})) {
      addRows(rows, `${field}[].${key}`, child, itemObj.required?.includes(key) ? 'yes' : 'no');
    }
  } else if (constraints(items).length > 0 || descriptionOf(items)) {
    addRows(rows, `${field}[]`, items, '—');
  }
}

function typeName(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(typeName).join(' | ');
  switch (s.type) {
    case undefined:
      return 'any';
    case 'array': {
      const item = s.items ? typeName(s.items) : 'any';
      return `array of ${s.items?.anyOf ? `(${item})` : item}`;
    }
    case 'object': {
      const values = Object.values(s.patternProperties ?? {})[0];
      return values ? `map of string → ${typeName(values)}` : 'object';
    }
    case 'Uint8Array':
      return 'binary (bin)';
    default:
      return s.type;
  }
}

function constraints(s: JsonSchema): string[] {
  if (s.anyOf) return [...new Set(s.anyOf.flatMap(constraints))];
  if (s.const !== undefined) return [];
  const out: string[] = [];
  const min = s.minimum === Number.MIN_SAFE_INTEGER ? undefined : s.minimum;
  const max = s.maximum === Number.MAX_SAFE_INTEGER ? undefined : s.maximum;
  const range = span(min, max, '');
  if (range) out.push(range);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.exclusiveMaximum !== undefined) out.push(`< ${s.exclusiveMaximum}`);
  if (s.multipleOf !== undefined) out.push(`multiple of ${s.multipleOf}`);
  const length = span(s.minLength, s.maxLength, ' chars');
  if (length) out.push(length);
  if (s.pattern !== undefined) out.push(`matches \`${s.pattern}\``);
  if (s.format !== undefined) out.push(`format ${s.format}`);
  const count = span(s.minItems, s.maxItems, ' items');
  if (count) out.push(count);
  if (s.uniqueItems) out.push('unique');
  return out;
}

/** `1–100 items`, `≥ 1`, `≤ 64 chars`; nothing when unbounded. */
function span(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  if (min !== undefined && max !== undefined) return min === max ? `exactly ${min}${unit}` : `${min}–${max}${unit}`;
  if (min !== undefined) return unit && min === 1 ? `non-empty` : `≥ ${min}${unit}`;
  if (max !== undefined) return `≤ ${max}${unit}`;
  return undefined;
}

function descriptionOf(s: JsonSchema): string {
  return s.description ?? s.anyOf?.find((m) => m.description)?.description ?? '';
}

function objectPart(s: JsonSchema): JsonSchema | undefined {
  if (s.properties) return s;
  return s.anyOf?.find((m) => m.properties);
}

function arrayPart(s: JsonSchema): JsonSchema | undefined {
  if (s.type === 'array') return s;
  return s.anyOf?.find((m) => m.type === 'array');
}

/** Links between the sections of docs/protocol.md. */
export const anchor = (kind: string, id: string) => `<a id="${kind}-${id}"></a>`;
export const opRef = (name: string) => `[\`${name}\`](#op-${name})`;
export const pushRef = (name: string) => `[\`${name}\`](#push-${name})`;
export const errRef = (name: ErrorName) => `[${ERRORS[name].code}](#err-${ERRORS[name].code}) ${name}`;
