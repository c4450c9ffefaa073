/** Publishes JSON typed into a textarea to one channel; the JSON is checked before it is sent. */
import { useState } from 'preact/hooks';
import { UnauthorizedError } from '../api';
import { errorMessage } from '../format';
import { parseJsonInput } from '../json';
import { useAdmin } from '../session';

export function PublishForm({ channel, onPublished }: { channel: string; onPublished: () => void }) {
  const admin = useAdmin();
  const [text, setText] = useState('{\n  "text": "hello"\n}');
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone(undefined);
    const parsed = parseJsonInput(text);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      const res = await admin.call('publish', { channel, data: parsed.value });
      setDone(res.offset !== undefined ? `Published at offset ${res.offset}.` : 'Published.');
      onPublished();
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) setError(`Publish failed: ${errorMessage(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card" onSubmit={submit} data-testid="publish-form">
      <div class="card-header">
        <h2>Publish</h2>
      </div>
      <div class="card-body">
        <label htmlFor="publish-data">Data (JSON)</label>
        <textarea
          id="publish-data"
          class="mono"
          rows={4}
          spellcheck={false}
          value={text}
          aria-invalid={error !== undefined}
          aria-describedby="publish-error"
          onInput={(e) => {
            setText(e.currentTarget.value);
            setError(undefined);
          }}
        />
        <div class="form-foot">
          <p id="publish-error" class="error-line" role="alert" data-testid="publish-error">
            {error ?? ''}
          </p>
          {done !== undefined && (
            <p class="ok-line" role="status" data-testid="publish-result">
              {done}
            </p>
          )}
          <button type="submit" class="btn btn-primary" data-testid="publish-submit" disabled={busy}>
            Publish
          </button>
        </div>
      </div>
    </form>
  );
}
