/** Listeners named in the configuration (`events.listeners`), imported at start. */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventsListenerSpec } from '../config/types.js';
import type { EventListener, EventsApi } from './types.js';

/**
 * Imports the listener a spec names. A module starting with `.` or `/` (or absolute) is a file
 * path relative to the working directory; anything else is imported as a package specifier.
 * @throws Error naming the entry when the module cannot be imported or the export is no listener.
 */
export async function loadListener(spec: EventsListenerSpec, index: number): Promise<EventListener> {
  const where = `events.listeners[${index}] (${spec.event}=${spec.module}${spec.export === 'default' ? '' : `#${spec.export}`})`;
  const value = await importExport(spec, where);
  if (isListener(value)) return value;
  throw new Error(
    `${where}: export "${spec.export}" is ${value === undefined ? 'missing' : 'not a listener'}` +
      ' (expected a function (server, message) => ... or an object with a handle(server, message) method)',
  );
}

/** A hook named in the configuration (`events.hooks`): a function `(server, event) => ...`. */
export type LoadedHook = (server: EventsApi, event: unknown) => void | Promise<void>;

/**
 * Imports the hook a spec (`events.hooks` entry) names.
 * @throws Error naming the entry when the module cannot be imported or the export is no function.
 */
export async function loadHook(spec: EventsListenerSpec, index: number): Promise<LoadedHook> {
  const where = `events.hooks[${index}] (${spec.event}=${spec.module}${spec.export === 'default' ? '' : `#${spec.export}`})`;
  const value = await importExport(spec, where);
  if (typeof value === 'function') return value as LoadedHook;
  throw new Error(`${where}: export "${spec.export}" is ${value === undefined ? 'missing' : 'not a function'} (expected (server, event) => ...)`);
}

async function importExport(spec: EventsListenerSpec, where: string): Promise<unknown> {
  const specifier =
    spec.module.startsWith('.') || isAbsolute(spec.module) ? pathToFileURL(resolve(process.cwd(), spec.module)).href : spec.module;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}: cannot import the module: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return mod[spec.export];
}

function isListener(value: unknown): value is EventListener {
  if (typeof value === 'function') return true;
  return typeof value === 'object' && value !== null && typeof (value as { handle?: unknown }).handle === 'function';
}
