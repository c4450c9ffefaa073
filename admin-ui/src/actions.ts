/** The forms of the Actions screen: one server API method each, its fields, and its params from them. */
import { parseJsonInput } from './json';
import type { AdminMethod } from './types';

/** `text`: a string; `json`: a JSON value; `list`: names separated by commas, spaces or lines; `checkbox`: a boolean. */
export type FieldKind = 'text' | 'json' | 'list' | 'checkbox';

export interface FieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  required?: boolean;
  placeholder?: string;
}

export interface ActionSpec {
  method: AdminMethod;
  description: string;
  fields: FieldSpec[];
  /** Acts on live connections (shown in a warning colour). */
  danger?: boolean;
}

const channel: FieldSpec = { name: 'channel', label: 'Channel', kind: 'text', required: true, placeholder: 'news' };
const user: FieldSpec = { name: 'user', label: 'User ID', kind: 'text', required: true, placeholder: '42' };
const client: FieldSpec = { name: 'client', label: 'Client ID (optional: only this connection)', kind: 'text' };
const data: FieldSpec = { name: 'data', label: 'Data (JSON)', kind: 'json', required: true, placeholder: '{"text": "hello"}' };

export const ACTIONS: ActionSpec[] = [
  { method: 'publish', description: 'Publish data into a channel.', fields: [channel, data] },
  {
    method: 'broadcast',
    description: 'Publish the same data into several channels.',
    fields: [{ name: 'channels', label: 'Channels (separated by commas or spaces)', kind: 'list', required: true, placeholder: 'news, alerts' }, data],
  },
  { method: 'subscribe', description: "Subscribe a user's connections to a channel.", fields: [user, channel, client] },
  { method: 'unsubscribe', description: "Unsubscribe a user's connections from a channel.", fields: [user, channel, client], danger: true },
  { method: 'disconnect', description: "Disconnect a user's connections.", fields: [user, client], danger: true },
  {
    method: 'refresh',
    description: "Refresh a user's connections (or close them as expired).",
    fields: [user, client, { name: 'expired', label: 'Close as expired', kind: 'checkbox' }],
  },
  { method: 'history_remove', description: "Remove a channel's history.", fields: [channel], danger: true },
  { method: 'info', description: 'Information about the running nodes.', fields: [] },
];

/** A form's values: the text of each field, or the state of a checkbox. */
export type FormValues = Record<string, string | boolean>;

/** The params of an action from its form's values, or the first problem with them. */
export function buildParams(spec: ActionSpec, values: FormValues): { ok: true; params: Record<string, unknown> } | { ok: false; error: string } {
  const params: Record<string, unknown> = {};
  for (const f of spec.fields) {
    const raw = values[f.name];
    if (f.kind === 'checkbox') {
      if (raw === true) params[f.name] = true;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') {
      if (f.required === true) return { ok: false, error: `${f.label} is required.` };
      continue;
    }
    if (f.kind === 'json') {
      const parsed = parseJsonInput(text);
      if (!parsed.ok) return { ok: false, error: parsed.error };
      params[f.name] = parsed.value;
    } else if (f.kind === 'list') {
      params[f.name] = text.split(/[\s,]+/).filter((s) => s !== '');
    } else {
      params[f.name] = text;
    }
  }
  return { ok: true, params };
}
