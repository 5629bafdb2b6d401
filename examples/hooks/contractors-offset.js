// The hook guide's offset-based pagination example, against https://api.example.com.
async function run(ctx) {
  const offset = ctx.meta?.offset ?? 0;
  const limit = 200;
  const resp = await ctx.http.get('https://api.example.com/contractors', {
    headers: { 'X-Api-Key': ctx.secrets.api_key },
    query: { offset: String(offset), limit: String(limit) }
  });
  if (resp.status !== 200) {
    ctx.log.error('Failed to fetch contractors', { status: resp.status });
    return { records: [] };
  }
  const records = resp.body.items.map(c => ({
    externalId: c.id,
    data: {
      name: c.full_name,
      email: c.email,
      rate: c.hourly_rate,
      currencyCode: c.currency
    }
  }));
  const hasMore = resp.body.total > offset + records.length;
  ctx.log.info(`Offset ${offset}: fetched ${records.length} of ${resp.body.total} contractors`);
  return {
    records,
    more: hasMore,
    meta: { offset: offset + limit }
  };
}
