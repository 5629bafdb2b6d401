// PULL employees, page by page: people, their salaries and their team allocations.
async function run(ctx) {
  const page = ctx.meta?.page ?? 1;
  const resp = await ctx.http.get('https://hr.example.com/v2/employees', {
    headers: { Authorization: `Bearer ${ctx.secrets.api_key}` },
    query: { page: String(page), per_page: '10' }
  });
  if (resp.status !== 200) {
    throw new Error(`GET /v2/employees answered ${resp.status}`);
  }
  const records = resp.body.data.map(person => ({
    externalId: person.id,
    data: {
      firstName: person.first_name,
      lastName: person.last_name,
      email: person.email,
      internalEmployeeId: person.employee_number,
      jobRole: person.job_title,
      startDate: person.hire_date,
      endDate: person.termination_date,
      salaryAdjustments: [{
        effectiveDate: person.salary.effective_date,
        salary: person.salary.annual,
        bonus: person.salary.bonus,
        currencyCode: person.salary.currency
      }],
      teamAllocations: person.allocations.map(a => ({
        teamId: a.team_id, teamName: a.team_name, fte: a.fte, startDate: a.from
      }))
    }
  }));
  ctx.log.info(`Fetched ${records.length} employees`, { page });
  return { records, more: resp.body.has_next_page, meta: { page: page + 1 } };
}
