/** Config test helpers. */
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';

/** Asserts that `input` is refused with a problem at `key` whose message matches `pattern`. */
export function rejectsConfig(input: unknown, key: string, pattern: RegExp): void {
  assert.throws(
    () => validateConfig(input),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.key, key, err.message);
      assert.match(err.message, pattern);
      return true;
    },
  );
}
