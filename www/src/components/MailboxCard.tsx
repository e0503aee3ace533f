// A festival's S3 mailbox: the bucket and credentials the user enters, and how syncing through
// it goes. Peers who are never online at the same time meet there.
import { useState, type FormEvent } from 'react';
import { useAction } from '../hooks/useAction';
import { useMailboxes } from '../node/MailboxContext';
import { EMPTY_MAILBOX, validateMailbox, type MailboxField, type MailboxInput } from '../lib/mailbox';
import type { Errors } from '../lib/validation';
import { ActionError, Field } from './Field';

export function MailboxCard({ festival }: { festival: string }) {
  const mailboxes = useMailboxes();
  const status = mailboxes.status(festival);
  const [editing, setEditing] = useState(false);
  const sync = useAction(() => mailboxes.syncNow(festival));
  const remove = useAction(() => mailboxes.disconnect(festival));
  return (
    <section className="card" data-testid="mailbox">
      <h2>Mailbox (S3)</h2>
      <p className="muted small">
        An S3-compatible bucket that holds this festival’s changes for people who are not online at the same time as
        you. It stores only sealed objects with meaningless names; the provider reads nothing.
      </p>
      {status && !editing ? (
        <>
          <p data-testid="mailbox-status" data-state={status.error ? 'error' : status.at ? 'ok' : 'starting'}>
            <strong>{status.config.bucket}</strong> at {status.config.endpoint}:{' '}
            {status.error ? (
              <span className="error-text" role="alert">{status.error}</span>
            ) : status.at ? (
              <>
                {status.pulled} change{status.pulled === 1 ? '' : 's'} received, {status.pushed} sent since you opened the
                app; last at {new Date(status.at).toLocaleTimeString()}.
              </>
            ) : (
              'connecting…'
            )}
          </p>
          <div className="row">
            <button type="button" disabled={sync.busy} onClick={() => void sync.run()} data-testid="mailbox-sync">
              {sync.busy ? 'Syncing…' : 'Sync now'}
            </button>
            <button type="button" onClick={() => setEditing(true)} data-testid="mailbox-change">
              Change
            </button>
            <button type="button" disabled={remove.busy} onClick={() => void remove.run()} data-testid="mailbox-remove">
              Stop using it
            </button>
          </div>
          <ActionError error={sync.error ?? remove.error} testid="mailbox-action-error" />
        </>
      ) : (
        <MailboxForm festival={festival} onDone={status ? () => setEditing(false) : undefined} />
      )}
    </section>
  );
}

function MailboxForm({ festival, onDone }: { festival: string; onDone?: () => void }) {
  const mailboxes = useMailboxes();
  const saved = mailboxes.status(festival)?.config;
  const [input, setInput] = useState<MailboxInput>({
    ...EMPTY_MAILBOX,
    ...saved,
    region: saved?.region ?? '',
    prefix: saved?.prefix ?? '',
  });
  const [errors, setErrors] = useState<Errors<MailboxField>>({});
  const connect = useAction(async () => {
    const checked = validateMailbox(input);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    await mailboxes.connect(festival, checked.value);
    onDone?.();
  });
  const set = (field: MailboxField) => (e: { target: { value: string } }) => setInput({ ...input, [field]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void connect.run();
  };
  return (
    <form onSubmit={submit} className="stack" data-testid="mailbox-form" noValidate>
      <Field label="Endpoint" error={errors.endpoint} testid="mailbox-endpoint" hint="e.g. https://s3.eu-central-1.amazonaws.com">
        <input value={input.endpoint} onChange={set('endpoint')} inputMode="url" autoComplete="off" />
      </Field>
      <Field label="Bucket" error={errors.bucket} testid="mailbox-bucket" hint="It must allow this app’s address (CORS).">
        <input value={input.bucket} onChange={set('bucket')} autoComplete="off" />
      </Field>
      <Field label="Access key id" error={errors.accessKeyId} testid="mailbox-access-key">
        <input value={input.accessKeyId} onChange={set('accessKeyId')} autoComplete="off" />
      </Field>
      <Field label="Secret access key" error={errors.secretAccessKey} testid="mailbox-secret" hint="Kept in this browser only.">
        <input type="password" value={input.secretAccessKey} onChange={set('secretAccessKey')} autoComplete="off" />
      </Field>
      <Field label="Region (optional)" error={errors.region} testid="mailbox-region">
        <input value={input.region} onChange={set('region')} placeholder="us-east-1" autoComplete="off" />
      </Field>
      <Field label="Prefix (optional)" error={errors.prefix} testid="mailbox-prefix">
        <input value={input.prefix} onChange={set('prefix')} autoComplete="off" />
      </Field>
      <div className="row">
        <button type="submit" disabled={connect.busy} data-testid="mailbox-connect">
          {connect.busy ? 'Connecting…' : 'Connect and sync'}
        </button>
        {onDone && (
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
      <ActionError error={connect.error} testid="mailbox-error" />
    </form>
  );
}
