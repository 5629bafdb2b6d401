// A PUSH hook: forwards a new contractor to a billing system (the guide's example).
async function run(ctx) {
  const { event } = ctx;
  if (event.changeType === 'create') {
    const contractor = event.after;
    ctx.log.info('New contractor, syncing to billing', { name: contractor.name });
    const resp = await ctx.http.post(
      'https://billing.example.com/api/vendors',
      {
        name: contractor.name,
        email: contractor.email,
        rate: contractor.rate,
        currency: contractor.currencyCode,
        type: contractor.contractorType
      },
      { headers: { Authorization: `Bearer ${ctx.secrets.billing_token}` } }
    );
    if (resp.status !== 201) {
      ctx.log.error('Failed to create vendor in billing', { status: resp.status, body: resp.body });
    }
  }
}
