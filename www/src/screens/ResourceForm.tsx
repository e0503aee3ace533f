// Create or edit a resource: name, kind (location with address / coordinates / URL, item,
// skill) and how requests are answered.
import { useEffect, useState, type FormEvent } from 'react';
import type { Resource } from 'p2panda';
import { href } from '../lib/route';
import { validateResource, type Errors, type ResourceField, type ResourceInput, type ResourceValue } from '../lib/validation';
import { useFestival } from '../node/FestivalScope';
import { useNode } from '../node/NodeContext';
import { useAction } from '../hooks/useAction';
import { navigate } from '../hooks/useRoute';
import { ActionError, Field } from '../components/Field';

const EMPTY: ResourceInput = { name: '', description: '', kind: 'location', address: '', lat: '', lon: '', url: '', policy: 'fcfs' };

function toInput(r: Resource): ResourceInput {
  const loc = r.kind.type === 'location' ? r.kind : null;
  return {
    name: r.name,
    description: r.description,
    kind: r.kind.type,
    address: loc?.address ?? '',
    lat: loc?.geo ? String(loc.geo.lat) : '',
    lon: loc?.geo ? String(loc.geo.lon) : '',
    url: loc?.url ?? '',
    policy: r.policy === 'manual' ? 'manual' : 'fcfs',
  };
}

export function ResourceForm({ resource }: { resource?: string }) {
  const node = useNode();
  const { id, resourceById, refresh } = useFestival();
  const existing = resource ? resourceById.get(resource) : undefined;
  const [input, setInput] = useState<ResourceInput>(EMPTY);
  const [errors, setErrors] = useState<Errors<ResourceField>>({});
  const [loaded, setLoaded] = useState(!resource);

  useEffect(() => {
    if (existing && !loaded) {
      setInput(toInput(existing));
      setLoaded(true);
    }
  }, [existing, loaded]);

  const save = useAction(async (value: ResourceValue) => {
    let target = resource;
    if (!existing) {
      target = await node.createResource(id, value);
    } else {
      // A custom policy set elsewhere stays unless the user picked another one here.
      const keepCustom = typeof existing.policy === 'object' && value.policy === toInput(existing).policy;
      await node.updateResource(id, existing.id, {
        name: value.name,
        description: value.description,
        kind: value.kind,
        ...(keepCustom ? {} : { policy: value.policy }),
      });
    }
    refresh();
    navigate({ page: 'resource', festival: id, resource: target! });
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateResource(input);
    if (!result.ok) return setErrors(result.errors);
    setErrors({});
    void save.run(result.value);
  };

  if (resource && !existing) return <p aria-busy="true">Loading resource…</p>;
  if (existing && existing.owner !== node.publicKey)
    return <p className="error-text" data-testid="resource-not-owner">Only the owner can edit this resource.</p>;

  const set = (patch: Partial<ResourceInput>) => setInput({ ...input, ...patch });
  return (
    <section className="card narrow">
      <h2>{existing ? `Edit ${existing.name}` : 'New resource'}</h2>
      <form onSubmit={submit} noValidate data-testid="resource-form">
        <Field label="Name" error={errors.name} testid="resource-name-input">
          <input value={input.name} onChange={(e) => set({ name: e.target.value })} autoFocus />
        </Field>
        <fieldset className="choices">
          <legend>Kind</legend>
          {(['location', 'item', 'skill'] as const).map((k) => (
            <label key={k}>
              <input type="radio" name="kind" value={k} checked={input.kind === k} onChange={() => set({ kind: k })} data-testid={`resource-kind-${k}`} />
              {k === 'location' ? 'Location (a place, real or online)' : k === 'item' ? 'Item (equipment)' : 'Skill (something a person does)'}
            </label>
          ))}
        </fieldset>
        {input.kind === 'location' && (
          <fieldset className="location-fields">
            <legend>Where (all optional)</legend>
            <Field label="Address" error={errors.address} testid="resource-address-input">
              <input value={input.address} onChange={(e) => set({ address: e.target.value })} autoComplete="street-address" />
            </Field>
            <div className="two">
              <Field label="Latitude" error={errors.lat} testid="resource-lat-input">
                <input inputMode="decimal" value={input.lat} onChange={(e) => set({ lat: e.target.value })} placeholder="52.52" />
              </Field>
              <Field label="Longitude" error={errors.lon} testid="resource-lon-input">
                <input inputMode="decimal" value={input.lon} onChange={(e) => set({ lon: e.target.value })} placeholder="13.40" />
              </Field>
            </div>
            {errors.coordinates && (
              <small className="error-text" role="alert" data-testid="resource-coordinates-error">
                {errors.coordinates}
              </small>
            )}
            <Field label="Link for a virtual place" error={errors.url} testid="resource-url-input" hint="A video call or stream, for online venues.">
              <input type="url" value={input.url} onChange={(e) => set({ url: e.target.value })} placeholder="https://…" />
            </Field>
          </fieldset>
        )}
        <Field label="Description (optional)" error={errors.description} testid="resource-description-input">
          <textarea rows={3} value={input.description} onChange={(e) => set({ description: e.target.value })} />
        </Field>
        <fieldset className="choices">
          <legend>Requests are answered</legend>
          <label>
            <input type="radio" name="policy" checked={input.policy === 'fcfs'} onChange={() => set({ policy: 'fcfs' })} data-testid="resource-policy-fcfs" />
            First come, first served: automatically granted when free (while your app is open)
          </label>
          <label>
            <input type="radio" name="policy" checked={input.policy === 'manual'} onChange={() => set({ policy: 'manual' })} data-testid="resource-policy-manual" />
            By me: each request waits in my inbox
          </label>
        </fieldset>
        <ActionError error={save.error} testid="resource-form-error" />
        <div className="actions">
          <button type="submit" className="primary" disabled={save.busy} data-testid="resource-submit">
            {save.busy ? 'Saving…' : existing ? 'Save' : 'Create'}
          </button>
          <a
            className="button"
            href={existing ? href({ page: 'resource', festival: id, resource: existing.id }) : href({ page: 'festival', festival: id, tab: 'resources' })}
            data-testid="resource-cancel"
          >
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
