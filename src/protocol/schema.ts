/**
 * Field schemas for control messages: one description per field that both checks a value on
 * the way out (encode) and on the way in (decode), so the two halves share every limit
 * (compact-encoding's idea). Pure: no I/O.
 *
 * A JSON body is an object whose keys are written in the schema's order, so a message always
 * encodes to the same bytes (the golden-bytes tests pin them).
 */

import { ProtocolError } from "./errors.ts";

const utf8 = new TextEncoder();

/** One field's type and bounds. `check` returns undefined when `value` fits, else why not. */
export type FieldSpec =
  | { readonly type: "uint"; readonly min: number; readonly max: number; readonly nullable?: boolean }
  | {
      readonly type: "text";
      /** Bounds in UTF-16 code units (JS string length). */
      readonly minChars: number;
      readonly maxChars: number;
      /** Also at most this many UTF-8 bytes. */
      readonly maxBytes?: number;
      readonly pattern?: RegExp;
      /** Only these values. */
      readonly oneOf?: readonly string[];
    }
  | { readonly type: "bool" }
  | { readonly type: "list"; readonly item: FieldSpec; readonly maxItems: number }
  | { readonly type: "object"; readonly fields: readonly Field[] };

export interface Field {
  readonly key: string;
  readonly spec: FieldSpec;
  readonly optional?: boolean;
}

/** A JSON object as it arrives: unchecked. */
export type JsonObject = Record<string, unknown>;

export function bad(message: string, options?: ErrorOptions): never {
  throw new ProtocolError("E_BAD_MESSAGE", message, options);
}

/** Why `value` does not fit `spec`, or undefined when it does. */
export function misfit(spec: FieldSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case "uint":
      if (value === null && spec.nullable) return undefined;
      if (typeof value === "number" && Number.isInteger(value) && value >= spec.min && value <= spec.max) {
        return undefined;
      }
      return `must be an integer in ${spec.min}..${spec.max}${spec.nullable ? " or null" : ""}`;
    case "text": {
      if (typeof value !== "string" || value.length < spec.minChars || value.length > spec.maxChars) {
        return `must be a string of ${spec.minChars}..${spec.maxChars} characters`;
      }
      if (spec.maxBytes !== undefined && utf8.encode(value).length > spec.maxBytes) {
        return `must be at most ${spec.maxBytes} UTF-8 bytes`;
      }
      if (spec.pattern && !spec.pattern.test(value)) return `must match ${spec.pattern}`;
      if (spec.oneOf && !spec.oneOf.includes(value)) return `must be one of ${spec.oneOf.join(", ")}`;
      return undefined;
    }
    case "bool":
      return typeof value === "boolean" ? undefined : "must be true or false";
    case "list": {
      if (!Array.isArray(value) || value.length > spec.maxItems) return `must be a list of at most ${spec.maxItems}`;
      for (const item of value) {
        const why = misfit(spec.item, item);
        if (why) return `has an item that ${why}`;
      }
      return undefined;
    }
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return "must be an object";
      for (const f of spec.fields) {
        const v = (value as JsonObject)[f.key];
        if (v === undefined && f.optional) continue;
        const why = v === undefined ? "is missing" : misfit(f.spec, v);
        if (why) return `field "${f.key}" ${why}`;
      }
      return undefined;
    }
  }
}

/**
 * The fields of `source` named by `fields`, checked, in schema order; unknown keys are left
 * out (on decode they are ignored, never passed on).
 * @param what - message name for errors ("OFFER")
 * @throws ProtocolError E_BAD_MESSAGE when a field is missing or does not fit
 */
export function pickFields(fields: readonly Field[], source: JsonObject, what: string): JsonObject {
  const out: JsonObject = {};
  for (const f of fields) {
    const v = source[f.key];
    if (v === undefined) {
      if (f.optional) continue;
      bad(`${what} field "${f.key}" is missing`);
    }
    const why = misfit(f.spec, v);
    if (why) bad(`${what} field "${f.key}" ${why}`);
    out[f.key] = f.spec.type === "object" ? pickFields(f.spec.fields, v as JsonObject, `${what} ${f.key}`) : v;
  }
  return out;
}

/**
 * `text` cut to at most `maxChars` UTF-16 units without splitting a surrogate pair: where a
 * bounded wire string is made, so the encoder never meets one over its limit.
 */
export function truncateChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = maxChars;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut
  return text.slice(0, end);
}
