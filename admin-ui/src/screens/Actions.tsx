/** The Actions screen: a form per server API method, each showing the JSON result or the error. */
import { useState } from 'preact/hooks';
import { ACTIONS, buildParams, type ActionSpec, type FieldSpec, type FormValues } from '../actions';
import { UnauthorizedError } from '../api';
import { JsonBlock } from '../components/JsonBlock';
import { PageHeader } from '../components/PageHeader';
import { errorMessage } from '../format';
import { useAdmin } from '../session';

type Outcome = { ok: true; result: unknown } | { ok: false; error: string };

function Field({ method, field, value, onChange }: { method: string; field: FieldSpec; value: string | boolean | undefined; onChange: (v: string | boolean) => void }) {
  const id = `action-${method}-${field.name}`;
  if (field.kind === 'checkbox') {
    return (
      <label class="check" htmlFor={id}>
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />
        {field.label}
      </label>
    );
  }
  const common = {
    id,
    name: field.name,
    required: field.required === true,
    placeholder: field.placeholder,
    spellcheck: false,
    value: typeof value === 'string' ? value : '',
  };
  return (
    <div class="field">
      <label htmlFor={id}>{field.label}</label>
      {field.kind === 'json' ? (
        <textarea {...common} class="mono" rows={3} onInput={(e) => onChange(e.currentTarget.value)} />
      ) : (
        <input {...common} type="text" onInput={(e) => onChange(e.currentTarget.value)} />
      )}
    </div>
  );
}

function ActionForm({ spec }: { spec: ActionSpec }) {
  const admin = useAdmin();
  const [values, setValues] = useState<FormValues>({});
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const built = buildParams(spec, values);
    if (!built.ok) {
      setOutcome({ ok: false, error: built.error });
      return;
    }
    setBusy(true);
    setOutcome(undefined);
    try {
      setOutcome({ ok: true, result: await admin.callAny(spec.method, built.params) });
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) setOutcome({ ok: false, error: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card action" data-testid={`action-${spec.method}`} onSubmit={submit} noValidate>
      <div class="card-header">
        <h2 class="mono">{spec.method}</h2>
      </div>
      <div class="card-body">
        <p class="muted description">{spec.description}</p>
        {spec.fields.map((f) => (
          <Field key={f.name} method={spec.method} field={f} value={values[f.name]} onChange={(v) => setValues((s) => ({ ...s, [f.name]: v }))} />
        ))}
        <div class="form-foot">
          <button type="submit" class={spec.danger === true ? 'btn btn-danger' : 'btn btn-primary'} data-testid={`action-${spec.method}-submit`} disabled={busy}>
            {busy ? 'Running…' : 'Run'}
          </button>
        </div>
        {outcome !== undefined && (
          <div class={outcome.ok ? 'result result-ok' : 'result result-error'} data-testid={`action-${spec.method}-result`} data-ok={String(outcome.ok)} role="status">
            <div class="result-label">{outcome.ok ? 'Result' : 'Error'}</div>
            {outcome.ok ? <JsonBlock value={outcome.result} /> : <p class="error-line">{outcome.error}</p>}
          </div>
        )}
      </div>
    </form>
  );
}

export function Actions() {
  return (
    <section data-testid="actions">
      <PageHeader title="Actions" />
      <div class="actions-grid">
        {ACTIONS.map((a) => (
          <ActionForm key={a.method} spec={a} />
        ))}
      </div>
    </section>
  );
}
