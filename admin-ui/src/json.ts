/** Reading JSON typed into a form. */

/** The outcome of parsing a form field as JSON. */
export type JsonInput = { ok: true; value: unknown } | { ok: false; error: string };

/** Parses `text` as one JSON value; an empty field or a syntax error is an error with a message. */
export function parseJsonInput(text: string): JsonInput {
  if (text.trim() === '') return { ok: false, error: 'Data is empty: enter a JSON value, e.g. {"text": "hello"}' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, error: `Data is not valid JSON: ${detail}` };
  }
}
