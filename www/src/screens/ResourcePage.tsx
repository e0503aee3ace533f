// A resource's page; for locations the "location page": where it is, who owns it, its policy,
// and its own schedule.
import { href } from '../lib/route';
import { KIND_LABEL, policyLabel } from '../lib/eventStatus';
import { useFestival } from '../node/FestivalScope';
import { useNode } from '../node/NodeContext';
import { useAction } from '../hooks/useAction';
import { navigate } from '../hooks/useRoute';
import { ActionError } from '../components/Field';
import { ConfirmAction } from '../components/ConfirmAction';
import { Person } from '../components/Person';
import { LocationDetails } from '../components/LocationDetails';
import { ScheduleView } from '../components/schedule/ScheduleView';

export function ResourcePage({ resource }: { resource: string }) {
  const node = useNode();
  const { id, resourceById, nameOf, refresh } = useFestival();
  const r = resourceById.get(resource);
  const remove = useAction(async () => {
    await node.deleteResource(id, resource);
    refresh();
    navigate({ page: 'festival', festival: id, tab: 'resources' });
  });
  if (!r)
    return (
      <section className="card" data-testid="resource-missing">
        <p>This resource isn’t known here (yet). It may still be on its way from a peer.</p>
      </section>
    );
  const mine = r.owner === node.publicKey;
  return (
    <div className="stack">
      <section className="card" data-testid="resource-page" data-resource={r.id} data-kind={r.kind.type}>
        <a className="small" href={href({ page: 'festival', festival: id, tab: 'resources' })}>
          ← All resources
        </a>
        <div className="row-between">
          <h2 data-testid="resource-name">
            {r.name} {r.deleted && <span className="badge badge-bad" data-testid="resource-deleted">deleted</span>}
          </h2>
          <span className="badge" data-testid="resource-kind">{KIND_LABEL[r.kind.type]}</span>
        </div>
        {r.description && <p>{r.description}</p>}
        {r.kind.type === 'location' && <LocationDetails kind={r.kind} />}
        <p>
          Owner: <Person author={r.owner} name={nameOf(r.owner)} testid="resource-owner" />
        </p>
        <p data-testid="resource-policy">{policyLabel(r.policy)}</p>
        {mine && !r.deleted && (
          <div className="actions">
            <a className="button" href={href({ page: 'resource-edit', festival: id, resource: r.id })} data-testid="resource-edit">
              Edit
            </a>
            <ConfirmAction
              action={remove}
              label="Delete"
              question={`Delete ${r.name}? Events that requested it lose it.`}
              testid="resource-delete"
            />
          </div>
        )}
        <ActionError error={remove.error} testid="resource-delete-error" />
      </section>
      <section className="card card-fill" data-testid="resource-schedule">
        <h2>Schedule here</h2>
        <ScheduleView lockResource={r.id} />
      </section>
    </div>
  );
}
