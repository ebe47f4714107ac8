// Drives mockserver with the official stripe Node SDK, unmodified: a report run from create to its file,
// and what the SDK does with a failed run (whose `error` field it takes for an error answer). Prints one
// JSON line for tests/test_sdk_node.py. Usage: MOCK_URL=http://127.0.0.1:PORT STRIPE_KEY=sk_test_… node stripe_report.js
'use strict'
const Stripe = require('stripe')

async function main () {
  const url = new URL(process.env.MOCK_URL)
  const stripe = new Stripe(process.env.STRIPE_KEY, {
    host: url.hostname,
    port: Number(url.port),
    protocol: url.protocol.replace(':', ''),
    maxNetworkRetries: 0
  })
  const type = await stripe.reporting.reportTypes.retrieve('balance.summary.1')
  const parameters = { interval_start: type.data_available_end - 86400, interval_end: type.data_available_end }
  const created = await stripe.reporting.reportRuns.create({ report_type: type.id, parameters })
  let run = created
  const statuses = [run.status]
  for (let i = 0; i < 10 && run.status === 'pending'; i++) {
    run = await stripe.reporting.reportRuns.retrieve(created.id)
    statuses.push(run.status)
  }
  const file = await stripe.files.retrieve(run.result.id)
  const csv = await (await fetch(file.url, { headers: { Authorization: `Bearer ${process.env.STRIPE_KEY}` } })).text()

  // a run that fails: the admin API moves it (as Prefer: outcome=error would)
  const doomed = await stripe.reporting.reportRuns.create({ report_type: type.id, parameters })
  await fetch(`${process.env.MOCK_URL}/__mock/exports/${doomed.id}/status`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ status: 'failed' })
  })
  const failed = {}
  try {
    failed.run = await stripe.reporting.reportRuns.retrieve(doomed.id)
  } catch (error) {
    failed.thrown = { name: error.constructor.name, statusCode: error.statusCode, runError: error.raw && error.raw.type }
  }
  const listed = await stripe.reporting.reportRuns.list({ limit: 10 }) // a list's runs are not checked for `error`
  failed.listed = listed.data.find(r => r.id === doomed.id)
  console.log(JSON.stringify({ type, created, run, statuses, file, csv, failed }))
}

main().catch(error => {
  console.error(error && error.stack ? error.stack : error)
  process.exit(1)
})
