/** Typed reading of server API request parameters: a wrong type is error 107 "bad request". */
import { Errors, ProtocolException } from '../protocol/codes.js';

export type Params = Record<string, unknown>;

function bad(): never {
  throw new ProtocolException(Errors.badRequest);
}

export function asParams(v: unknown): Params {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) bad();
  return v as Params;
}

export function str(p: Params, key: string): string {
  const v = p[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') bad();
  return v;
}

/** A required non-empty string. */
export function reqStr(p: Params, key: string): string {
  const v = str(p, key);
  if (v === '') bad();
  return v;
}

export function bool(p: Params, key: string): boolean {
  const v = p[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') bad();
  return v;
}

export function int(p: Params, key: string): number | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) bad();
  return v;
}

export function obj(p: Params, key: string): Params | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  return asParams(v);
}

export function strList(p: Params, key: string): string[] {
  const v = p[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad();
  return v as string[];
}

export function strMap(p: Params, key: string): Record<string, string> | undefined {
  const o = obj(p, key);
  if (o === undefined) return undefined;
  for (const v of Object.values(o)) if (typeof v !== 'string') bad();
  return o as Record<string, string>;
}

/** A `bool` override in `{"value": bool}` form (Centrifugo's BoolValue), or a plain boolean. */
export function boolValue(p: Params, key: string): boolean | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  const o = asParams(v);
  if (typeof o['value'] !== 'boolean') bad();
  return o['value'];
}
