// PULL teams (the demo's example HR API, https://hr.example.com): the tree, parents first.
async function run(ctx) {
  const resp = await ctx.http.get('https://hr.example.com/v2/teams', {
    headers: { Authorization: `Bearer ${ctx.secrets.api_key}` }
  });
  if (resp.status !== 200) {
    throw new Error(`GET /v2/teams answered ${resp.status}`);
  }
  const records = resp.body.data.map(team => ({
    externalId: team.id,
    data: { name: team.name, parentTeamExternalId: team.parent_id }
  }));
  ctx.log.info(`Fetched ${records.length} teams`);
  return { records };
}
