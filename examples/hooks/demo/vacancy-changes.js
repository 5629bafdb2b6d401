// PUSH: tells the HR system when a vacancy changes (filled from the console, say).
async function run(ctx) {
  const { event } = ctx;
  const resp = await ctx.http.post(
    'https://hr.example.com/v2/webhooks/flowstate',
    {
      changeType: event.changeType,
      position: event.after?.externalId ?? event.before?.externalId,
      status: event.after?.status,
      filledBy: event.after?.filledBy ?? null
    },
    { headers: { Authorization: `Bearer ${ctx.secrets.api_key}` } }
  );
  if (resp.status !== 201) {
    throw new Error(`the HR system answered ${resp.status}`);
  }
  ctx.log.info('Sent the change', { changeType: event.changeType });
}
