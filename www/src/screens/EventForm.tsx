// Create or edit an event: title, timeframe and resources. Resources already booked for the
// timeframe block submitting with an inline message, before anything is signed.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { blockingResources } from '../lib/availability';
import { href } from '../lib/route';
import { formatTime, fromLocalInput, HOUR, toLocalInput } from '../lib/time';
import { validateEvent, type Errors, type EventInput, type EventValue } from '../lib/validation';
import { useFestival } from '../node/FestivalScope';
import { useNode } from '../node/NodeContext';
import { useLiveQuery } from '../node/useLiveQuery';
import { useAction } from '../hooks/useAction';
import { navigate } from '../hooks/useRoute';
import { ActionError, Field } from '../components/Field';
import { ResourcePicker } from '../components/ResourcePicker';
import { useAvailability } from '../node/useAvailability';

function defaultTimes(): Pick<EventInput, 'start' | 'end'> {
  // The next full hour, one hour long: a sensible start that is easy to change.
  const start = Math.ceil(Date.now() / HOUR) * HOUR;
  return { start: toLocalInput(start), end: toLocalInput(start + HOUR) };
}

export function EventForm({ event }: { event?: string }) {
  const node = useNode();
  const { id, resources, resourceNames, nameOf } = useFestival();
  const existing = useLiveQuery(id, (n) => (event ? n.event(id, event) : Promise.resolve(null)), [id, event]);
  const [input, setInput] = useState<EventInput>(() => ({ title: '', description: '', resources: [], ...defaultTimes() }));
  const [errors, setErrors] = useState<Errors<keyof EventInput>>({});
  const [loaded, setLoaded] = useState(!event);

  useEffect(() => {
    const e = existing.data;
    if (e && !loaded) {
      setInput({
        title: e.title,
        description: e.description,
        start: toLocalInput(e.start),
        end: toLocalInput(e.end),
        resources: e.resources.map((r) => r.resource),
      });
      setLoaded(true);
    }
  }, [existing.data, loaded]);

  const start = fromLocalInput(input.start);
  const end = fromLocalInput(input.end);
  const wanted = useMemo(() => (start !== null && end !== null && end > start ? { start, end } : null), [start, end]);
  const { byResource } = useAvailability(id, resources, wanted, event);
  const blocked = blockingResources(input.resources, byResource);
  // Shown as soon as a booked resource is picked, and it blocks submitting.
  const blockMessage = blocked.length
    ? blocked
        .map((r) => {
          const slots = byResource.get(r)?.overlapping.map((b) => `${formatTime(b.start)}–${formatTime(b.end)}`).join(', ');
          return `${resourceNames.get(r) ?? 'A resource'} is already booked then (${slots}).`;
        })
        .concat('Pick another time, or leave it out.')
        .join(' ')
    : undefined;

  const save = useAction(async (value: EventValue) => {
    let target = event;
    const e = existing.data;
    if (!e) {
      target = await node.createEvent(id, value);
    } else {
      const changes: Partial<EventValue> = {};
      if (value.title !== e.title) changes.title = value.title;
      if (value.description !== e.description) changes.description = value.description;
      if (value.start !== e.start) changes.start = value.start;
      if (value.end !== e.end) changes.end = value.end;
      const before = e.resources.map((r) => r.resource);
      if (before.join() !== value.resources.join()) changes.resources = value.resources;
      if (Object.keys(changes).length) await node.updateEvent(id, e.id, changes);
    }
    navigate({ page: 'event', festival: id, event: target! });
  });

  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const result = validateEvent(input);
    const next: Errors<keyof EventInput> = result.ok ? {} : { ...result.errors };
    setErrors(next);
    if (result.ok && !blockMessage) void save.run(result.value);
  };

  if (event && existing.data === undefined) return <p aria-busy="true">Loading event…</p>;
  if (event && existing.data === null) return <p data-testid="event-missing">This event isn’t known here.</p>;
  if (existing.data && existing.data.creator !== node.publicKey)
    return <p className="error-text" data-testid="event-not-creator">Only the person who created this event can change it.</p>;

  const set = (patch: Partial<EventInput>) => setInput({ ...input, ...patch });
  return (
    <section className="card narrow">
      <h2>{event ? 'Edit event' : 'New event'}</h2>
      <form onSubmit={submit} noValidate data-testid="event-form">
        <Field label="Title" error={errors.title} testid="event-title-input">
          <input value={input.title} onChange={(e) => set({ title: e.target.value })} autoFocus />
        </Field>
        <div className="two">
          <Field label="Start" error={errors.start} testid="event-start-input">
            <input type="datetime-local" value={input.start} onChange={(e) => set({ start: e.target.value })} />
          </Field>
          <Field label="End" error={errors.end} testid="event-end-input">
            <input type="datetime-local" value={input.end} onChange={(e) => set({ end: e.target.value })} />
          </Field>
        </div>
        <ResourcePicker
          resources={resources}
          selected={input.resources}
          onChange={(selected) => set({ resources: selected })}
          byResource={byResource}
          hasTimeframe={wanted !== null}
          nameOf={nameOf}
          error={errors.resources ?? blockMessage}
        />
        <Field label="Description (optional)" error={errors.description} testid="event-description-input">
          <textarea rows={3} value={input.description} onChange={(e) => set({ description: e.target.value })} />
        </Field>
        {event && <p className="muted small">Changing the time or resources asks the owners again.</p>}
        <ActionError error={save.error} testid="event-form-error" />
        <div className="actions">
          <button type="submit" className="primary" disabled={save.busy} data-testid="event-submit">
            {save.busy ? 'Saving…' : event ? 'Save' : 'Create and request'}
          </button>
          <a className="button" href={event ? href({ page: 'event', festival: id, event }) : href({ page: 'festival', festival: id, tab: 'schedule' })} data-testid="event-cancel-edit">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
