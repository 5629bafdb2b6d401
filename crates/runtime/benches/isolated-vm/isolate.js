// isolated-vm (the V8 sandbox Node users pick), measured like `cargo bench -p
// flowstate-runtime`: a fresh isolate per call, and a page of 10,000 records built in the
// isolate and copied out. Run by compare.sh, which installs isolated-vm into a scratch folder.
const ivm = require('isolated-vm');

function percentile(sorted, fraction) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

function row(name, samples, extra = '') {
  samples.sort((a, b) => a - b);
  const ms = (value) => value.toFixed(3).padStart(9);
  console.log(`| ${name.padEnd(44)} | ${String(samples.length).padStart(6)} | ${ms(percentile(samples, 0.5))} | ${ms(percentile(samples, 0.9))} | ${ms(percentile(samples, 0.99))} | ${extra.padEnd(24)} |`);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function trivial() {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  const context = await isolate.createContext();
  const script = await isolate.compileScript('async function run(ctx) { return { records: [] }; } run({})');
  const result = await script.run(context, { promise: true, copy: true });
  isolate.dispose();
  return result;
}

const PAGE = `async function run(ctx) { const records = []; for (let i = 0; i < 10000; i++) { records.push({ externalId: 'emp-' + i,
  data: { firstName: 'Ada', lastName: 'Lovelace', email: \`ada\${i}@example.com\`, startDate: '2024-03-15', fte: 0.8,
  internalEmployeeId: i, active: true, teamAllocations: [{ teamId: 'TEAM-1', fte: 0.5, startDate: '2024-01-01' }] } }); }
  return { records }; } run({})`;

async function page() {
  const isolate = new ivm.Isolate({ memoryLimit: 256 });
  const context = await isolate.createContext();
  const script = await isolate.compileScript(PAGE);
  const result = await script.run(context, { promise: true, copy: true });
  isolate.dispose();
  if (result.records.length !== 10000) throw new Error('wrong page');
  return result;
}

(async () => {
  console.log(`isolated-vm ${require('isolated-vm/package.json').version} on Node.js ${process.version}\n`);
  console.log(`| ${'case'.padEnd(44)} | ${'runs'.padStart(6)} | ${'p50 ms'.padStart(9)} | ${'p90 ms'.padStart(9)} | ${'p99 ms'.padStart(9)} | ${'throughput'.padEnd(24)} |`);
  for (let i = 0; i < 50; i++) await trivial();
  const fresh = [];
  for (let i = 0; i < 1000; i++) {
    const started = now();
    await trivial();
    fresh.push(now() - started);
  }
  row('isolated-vm: trivial pull, fresh isolate', fresh);
  for (let i = 0; i < 3; i++) await page();
  const pages = [];
  for (let i = 0; i < 30; i++) {
    const started = now();
    await page();
    pages.push(now() - started);
  }
  pages.sort((a, b) => a - b);
  row('isolated-vm: page of 10,000 records', pages, `${Math.round(10000 / (percentile(pages, 0.5) / 1000))} records/s`);
})();
