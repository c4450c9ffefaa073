/** A JSON value, indented, in a scrollable monospace block. */
import { prettyJson } from '../format';

export function JsonBlock({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre class="json" data-testid={testId}>
      {prettyJson(value)}
    </pre>
  );
}
