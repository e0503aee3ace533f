// Resources of the festival by kind: locations (with where they are), items, skills.
import type { Resource } from 'p2panda';
import { href } from '../../lib/route';
import { policyLabel } from '../../lib/eventStatus';
import { useFestival } from '../../node/FestivalScope';
import { Person } from '../../components/Person';
import { LocationSummary } from '../../components/LocationDetails';
import { compareNames } from '../../lib/sort';

const GROUPS: { kind: Resource['kind']['type']; title: string; empty: string }[] = [
  { kind: 'location', title: 'Locations', empty: 'No locations yet: stages, rooms, fields, or online places.' },
  { kind: 'item', title: 'Items', empty: 'No items yet: equipment people can book.' },
  { kind: 'skill', title: 'Skills', empty: 'No skills yet: things people offer to do.' },
];

export function ResourcesTab() {
  const { id, resources, nameOf } = useFestival();
  const live = resources.filter((r) => !r.deleted);
  return (
    <section className="card" data-testid="resources">
      <div className="row-between">
        <h2>Resources</h2>
        <a className="button primary" href={href({ page: 'resource-new', festival: id })} data-testid="resource-new">
          New resource
        </a>
      </div>
      {GROUPS.map((group) => {
        const list = live.filter((r) => r.kind.type === group.kind).sort((a, b) => compareNames(a.name, b.name));
        return (
          <div key={group.kind} className="resource-group" data-testid={`resource-group-${group.kind}`}>
            <h3>{group.title}</h3>
            {list.length === 0 ? (
              <p className="muted">{group.empty}</p>
            ) : (
              <ul className="plain resource-list">
                {list.map((r) => (
                  <li key={r.id} data-testid="resource-item" data-resource={r.id} data-kind={r.kind.type}>
                    <a href={href({ page: 'resource', festival: id, resource: r.id })} data-testid="resource-link">
                      {r.name}
                    </a>
                    <div className="muted small">
                      <Person author={r.owner} name={nameOf(r.owner)} /> · {policyLabel(r.policy)}
                    </div>
                    {r.kind.type === 'location' && <LocationSummary kind={r.kind} />}
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
    </section>
  );
}
