// An app's use of the p2panda API, type-checked (never run) against pkg/index.d.ts. The
// `@ts-expect-error` lines must fail to type-check: if the types went loose (e.g. `any`),
// tsc reports those directives as unused.
import {
  openNode,
  P2pandaError,
  type Festival,
  type Mailbox,
  type Page,
  type Peer,
  type Problem,
  type Profile,
  type PullReport,
  type RequestWithStatus,
  type Resource,
} from 'p2panda';

export async function example(): Promise<void> {
  const node = await openNode({ name: 'example', broadcastChannel: false, maxConnections: 4 });
  const festival: string = await node.createFestival({ name: 'Summer camp', description: 'by the lake' });
  const stage = await node.createResource(festival, {
    name: 'Stage',
    kind: { type: 'location', address: 'Lakeside 1', geo: { lat: 52.5, lon: 13.4 } },
    policy: { custom: 'weekdays-only' },
  });

  const unsubscribe: () => void = node.subscribe(festival, (changed: string) => console.log(changed));
  unsubscribe();

  const peers: Peer[] = await node.peers();
  const caughtUp: boolean = peers.every((p) => p.caughtUp && p.via !== 'nowhere');
  console.log(caughtUp);

  await node.registerPolicy('weekdays-only', (request, of) => {
    const day = new Date(request.start).getUTCDay();
    return day === 0 || day === 6 ? { decision: 'deny', reason: `weekend at ${of}` } : 'grant';
  });

  const info: Festival | null = await node.festival(festival);
  const resource: Resource | null = await node.resource(festival, stage);
  if (resource?.kind.type === 'location') console.log(info?.name, resource.kind.address);

  await node.setProfile(festival, { name: 'Ada' });
  const names: Profile[] = await node.profiles(festival);
  const problems: Problem[] = await node.problems(festival);
  for (const problem of problems) {
    console.log(problem.kind === 'rejected' ? problem.reason : `fork at ${problem.seq}`, names.length);
  }
  const backup: string = await node.exportSecretKey();
  await node.leaveFestival(festival);
  console.log((await openNode({ name: 'restored', secretKey: backup })).publicKey);

  node.on('error', (error: P2pandaError) => console.error(error.code, error.message));

  // Paging through an index: every pending request, 50 at a time.
  let after: string | null = null;
  do {
    const page: Page<RequestWithStatus> = await node.query(festival, { by: 'status', status: 'pending', after });
    for (const request of page.items) console.log(request.event, request.resource, request.status);
    after = page.next;
  } while (after);
  const mine: Page<Resource> = await node.query(festival, { by: 'owner', limit: 10 });
  console.log(mine.items.length);

  // Store-and-forward through a bucket the user named.
  const mailbox: Mailbox = await node.mailbox(festival, {
    endpoint: 'https://s3.example.org', bucket: 'festivals', accessKeyId: 'AKIA', secretAccessKey: 'secret',
  });
  const pulled: PullReport = await mailbox.pull({ full: true });
  for (const refused of pulled.rejectedObjects) console.log(refused.code, refused.name);
  console.log((await mailbox.push()).entries);
  mailbox.start({ everyMs: 60_000, onError: (error) => console.warn(error.code) });
  await mailbox.close();

  // @ts-expect-error a location needs `type: 'location'`, not a made-up kind
  await node.createResource(festival, { name: 'Van', kind: { type: 'vehicle' } });
  // @ts-expect-error createFestival takes an object, not a bare name
  await node.createFestival('Summer camp');
  // @ts-expect-error a policy answers 'grant' or 'deny'
  await node.registerPolicy('maybe', () => 'perhaps');
  // @ts-expect-error unknown event name
  node.on('joined', () => {});
  // @ts-expect-error a mailbox needs the bucket and credentials
  await node.mailbox(festival, { endpoint: 'https://s3.example.org' });
  // @ts-expect-error a resource's timeline needs the resource
  await node.query(festival, { by: 'resource', from: 0 });

  await node.close();
}
