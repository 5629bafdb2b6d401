// PULL contractors by offset: rates (hourly, daily, monthly; GBP and EUR) and allocations.
async function run(ctx) {
  const offset = ctx.meta?.offset ?? 0;
  const resp = await ctx.http.get('https://hr.example.com/v2/contractors', {
    headers: { Authorization: `Bearer ${ctx.secrets.api_key}` },
    query: { offset: String(offset), limit: '50' }
  });
  if (resp.status !== 200) {
    throw new Error(`GET /v2/contractors answered ${resp.status}`);
  }
  const records = resp.body.items.map(c => ({
    externalId: c.id,
    data: {
      name: c.full_name,
      email: c.email,
      contractorType: c.kind,
      startDate: c.start_date,
      endDate: c.end_date,
      rateType: c.rate.type,
      rate: c.rate.amount,
      currencyCode: c.rate.currency,
      teamAllocations: c.allocations.map(a => ({
        teamId: a.team_id, teamName: a.team_name, fte: a.fte, startDate: a.from
      }))
    }
  }));
  const next = offset + records.length;
  ctx.log.info(`Fetched ${records.length} contractors`, { offset });
  return { records, more: next < resp.body.total, meta: { offset: next } };
}
