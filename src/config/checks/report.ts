/** Where the cross-key checks report what they find. */
export interface CheckReport {
  /** A problem with the key at `key` (dotted path); the message is prefixed with the key and where its value came from. */
  problem(key: string, message: string): void;
  /** A non-fatal finding. */
  warn(message: string): void;
}
