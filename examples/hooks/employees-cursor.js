// The hook guide's "Sync employees from an external HR API" example: cursor-based
// pagination against https://hr.example.com (the bundled example HR API during `flowstate demo`).
async function run(ctx) {
  const cursor = ctx.meta?.cursor ?? null;
  // The guide sets `query.after` on the object afterwards; built in one go, an editor's
  // type checker (`// @ts-check`) knows the object has `after`.
  const query = cursor ? { limit: '100', after: cursor } : { limit: '100' };
  const resp = await ctx.http.get('https://hr.example.com/api/v1/employees', {
    headers: { Authorization: `Bearer ${ctx.secrets.api_key}` },
    query
  });
  if (resp.status !== 200) {
    ctx.log.error('Failed to fetch employees', { status: resp.status });
    return { records: [] };
  }
  const records = resp.body.data.map(emp => ({
    externalId: emp.id,
    data: {
      firstName: emp.first_name,
      lastName: emp.last_name,
      email: emp.email,
      internalEmployeeId: emp.employee_number,
      startDate: emp.hire_date,
      endDate: emp.termination_date
    }
  }));
  ctx.log.info(`Fetched ${records.length} employees`);
  return {
    records,
    more: resp.body.pagination.has_more,
    meta: { cursor: resp.body.pagination.next_cursor }
  };
}
