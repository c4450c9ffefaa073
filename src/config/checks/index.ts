/** Rules across keys, run once every key is valid on its own. */
import type { GyreConfig } from '../types.js';
import { checkAdmin } from './admin.js';
import { checkEngine } from './engine.js';
import { checkEvents } from './events.js';
import { checkGeneral } from './general.js';
import { checkPrometheus } from './prometheus.js';
import { checkProxies } from './proxy.js';
import { checkTransports, checkUniGrpc } from './transports.js';
import type { CheckReport } from './report.js';

export type { CheckReport } from './report.js';

/** Runs every cross-key check on a validated `config`, reporting all it finds; `raw` (the input) is read only for hints. */
export function checkAcrossKeys(config: GyreConfig, raw: Record<string, unknown>, report: CheckReport): void {
  checkGeneral(config, raw, report);
  checkProxies(config, report);
  checkEvents(config, report);
  checkPrometheus(config, report);
  checkAdmin(config, report);
  checkEngine(config, report);
  checkTransports(config, report);
  checkUniGrpc(config, report);
}
