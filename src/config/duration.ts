/**
 * Go-style duration strings (as accepted by Centrifugo v6 / Go's `time.ParseDuration`) to milliseconds.
 *
 * Grammar: an optional sign, then one or more `<decimal><unit>` parts, e.g. `"25s"`, `"1000ms"`,
 * `"720h"`, `"1h30m"`, `"1.5s"`, `"-1s"`; `"0"` alone needs no unit. Units: `ns`, `us` (`µs`, `μs`),
 * `ms`, `s`, `m`, `h`. The result may be fractional when the string has sub-millisecond precision
 * (`"1500us"` is `1.5`).
 */

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's limit: a duration is an int64 number of nanoseconds. */
const MAX_NS = (1n << 63n) - 1n;

const PART = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;

/**
 * Parses a Go duration string into milliseconds.
 * @throws Error with a message describing what is wrong (callers add the key).
 */
export function parseDuration(text: string): number {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let totalNs = 0n;
  while (rest !== '') {
    const match = PART.exec(rest);
    if (match === null) {
      const missingUnit = /^\d*(?:\.\d*)?$/.test(rest);
      throw new Error(
        missingUnit
          ? `missing unit in duration ${JSON.stringify(text)} (use e.g. "25s", "1000ms", "720h")`
          : `invalid duration ${JSON.stringify(text)}`,
      );
    }
    const [whole, intDigits = '', fracDigits = '', unit = ''] = match;
    const unitNs = UNIT_NS[unit];
    if (unitNs === undefined) throw new Error(`unknown unit "${unit}" in duration ${JSON.stringify(text)}`);
    if (intDigits === '' && fracDigits === '') throw new Error(`invalid duration ${JSON.stringify(text)}`);
    totalNs += BigInt(intDigits === '' ? '0' : intDigits) * unitNs;
    if (fracDigits !== '') totalNs += (BigInt(fracDigits) * unitNs) / 10n ** BigInt(fracDigits.length);
    if (totalNs > MAX_NS) throw new Error(`duration ${JSON.stringify(text)} is out of range`);
    rest = rest.slice(whole.length);
  }
  const ms = Number(totalNs) / 1e6;
  return negative && ms !== 0 ? -ms : ms;
}

/**
 * Formats milliseconds as a short duration string that {@link parseDuration} reads back,
 * using the largest whole unit (`"720h"`, `"25s"`, `"1500ms"`, `"1500us"`).
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs % 3_600_000 === 0) return `${sign}${abs / 3_600_000}h`;
  if (abs % 60_000 === 0) return `${sign}${abs / 60_000}m`;
  if (abs % 1_000 === 0) return `${sign}${abs / 1_000}s`;
  if (Number.isInteger(abs)) return `${sign}${abs}ms`;
  return `${sign}${Math.round(abs * 1_000_000) / 1_000}us`;
}
