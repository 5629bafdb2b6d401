// The starting code of a new hook: the hook guide's examples, for the chosen type and entity.

const PULL_FIELDS = {
  employee: `firstName: item.first_name,
        lastName: item.last_name,
        email: item.email,
        startDate: item.start_date,
        endDate: item.end_date ?? null`,
  contractor: `name: item.name,
        email: item.email,
        rate: item.rate,
        currencyCode: item.currency,
        startDate: item.start_date`,
  vacancy: `title: item.title,
        startDate: item.start_date,
        filledBy: item.filled_by ? { externalId: item.filled_by } : null`,
  team: `name: item.name,
        parentTeam: item.parent_id ? { externalId: item.parent_id } : null`,
  project: `name: item.name,
        startDate: item.start_date,
        endDate: item.end_date ?? null`,
  assignment: `resource: { externalId: item.person_id },
        target: { externalId: item.project_id },
        startDate: item.start_date,
        endDate: item.end_date ?? null`,
};

const PATHS = { employee: 'employees', contractor: 'contractors', vacancy: 'positions', team: 'teams', project: 'projects', assignment: 'assignments' };

export function starterCode(type, entity) {
  if (type === 'PUSH') {
    return `// Runs when a ${entity} changes: ctx.event says how (changeType: create, update, delete).
async function run(ctx) {
  const { event } = ctx;
  ctx.log.info('Sending change', { changeType: event.changeType, id: event.entityId });
  const resp = await ctx.http.post(
    'https://api.example.com/webhooks/flowstate',
    { changeType: event.changeType, before: event.before, after: event.after },
    { headers: { Authorization: \`Bearer \${ctx.secrets.api_key}\` } }
  );
  if (resp.status >= 300) {
    throw new Error(\`The receiver answered \${resp.status}\`);
  }
}
`;
  }
  return `// Fetches ${PATHS[entity]} page by page and returns them as ${entity} records.
async function run(ctx) {
  const page = ctx.meta?.page ?? 1;
  const resp = await ctx.http.get('https://api.example.com/${PATHS[entity]}', {
    headers: { Authorization: \`Bearer \${ctx.secrets.api_key}\` },
    query: { page: String(page), per_page: '100' }
  });
  if (resp.status !== 200) {
    throw new Error(\`The API answered \${resp.status}\`);
  }
  const records = resp.body.data.map(item => ({
    externalId: item.id,
    data: {
      ${PULL_FIELDS[entity]}
    }
  }));
  ctx.log.info(\`Fetched \${records.length} ${PATHS[entity]}\`, { page });
  return {
    records,
    more: resp.body.has_next_page,
    meta: { page: page + 1 }
  };
}
`;
}
