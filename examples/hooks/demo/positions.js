// PULL positions as vacancies: budgets on teams, some filled by an employee or a contractor
// (filledByExternalId), the rest open.
async function run(ctx) {
  const page = ctx.meta?.page ?? 1;
  const resp = await ctx.http.get('https://hr.example.com/v2/positions', {
    headers: { Authorization: `Bearer ${ctx.secrets.api_key}` },
    query: { page: String(page), per_page: '10' }
  });
  if (resp.status !== 200) {
    throw new Error(`GET /v2/positions answered ${resp.status}`);
  }
  const records = resp.body.data.map(p => ({
    externalId: p.id,
    data: {
      role: p.title,
      status: p.status,
      fte: p.fte,
      targetStartDate: p.target_start,
      salaryMin: p.salary_min,
      salaryMax: p.salary_max,
      currencyCode: p.currency,
      teamAllocations: [{ teamId: p.team_id, fte: p.fte, startDate: p.target_start }],
      filledByExternalId: p.filled_by
    }
  }));
  ctx.log.info(`Fetched ${records.length} positions`, { page });
  return { records, more: resp.body.has_next_page, meta: { page: page + 1 } };
}
