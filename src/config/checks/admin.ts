/** Cross-key rules of the `admin` section. */
import type { GyreConfig } from '../types.js';
import type { CheckReport } from './report.js';

/**
 * An enabled admin needs a way in: a password and a secret to sign its tokens, or `insecure`. Its
 * prefix is "" or a path that starts with "/" and does not end with one.
 */
export function checkAdmin(config: GyreConfig, report: CheckReport): void {
  const { admin } = config;
  const prefix = admin.handler_prefix;
  if (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/'))) {
    report.problem('admin.handler_prefix', `must be "" or start with "/" and not end with one, got ${JSON.stringify(prefix)}`);
  }
  if (!admin.enabled || admin.insecure) return;
  if (admin.password === '') report.problem('admin.password', 'must be set when admin.enabled is true (or set admin.insecure: true behind a firewall)');
  if (admin.secret === '') report.problem('admin.secret', 'must be set when admin.enabled is true: it signs the admin tokens issued at login');
}
