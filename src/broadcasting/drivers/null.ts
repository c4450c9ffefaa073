/** The `null` driver: checks its arguments and sends nothing (broadcasting off, e.g. in tests). */
import { AbstractBroadcast } from '../abstract.js';
import type { DriverContext } from '../types.js';

export class NullBroadcast extends AbstractBroadcast {
  constructor(_options: object = {}, context?: Partial<DriverContext>) {
    super(context);
  }

  protected async send(): Promise<void> {}
}
