// Drives mockserver with the official chargebee Node SDK (3.x), unmodified: trigger a filtered orders
// export, retrieve it until completed, download the zip; and show what its own
// export.wait_for_export_completion does. Prints one JSON line for tests/test_sdk_node.py.
// Usage: MOCK_URL=http://127.0.0.1:PORT node chargebee_export.js
'use strict'
const Chargebee = require('chargebee')

async function main () {
  const url = new URL(process.env.MOCK_URL)
  const [site, ...rest] = url.hostname.split('.') // the SDK's host is site + hostSuffix
  const chargebee = new Chargebee({
    site,
    hostSuffix: '.' + rest.join('.'),
    protocol: url.protocol.replace(':', ''),
    port: Number(url.port),
    apiKey: 'test_node_key'
  })
  const created = await chargebee.export.orders({
    order: { status: { in: ['queued', 'delivered'] } },
    total: { gte: 1000 }
  })
  const statuses = [created.export.status]
  let exported = created.export
  for (let i = 0; i < 20 && exported.status === 'in_process'; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    exported = (await chargebee.export.retrieve(exported.id)).export
    statuses.push(exported.status)
  }
  const zip = Buffer.from(await (await fetch(exported.download.download_url)).arrayBuffer())
  // chargebee-node 3.x: wait_for_export_completion hands back a wrapper (not a promise) whose request()
  // calls .request() on the promise its own retrieve() returns
  const wrapper = await chargebee.export.wait_for_export_completion(exported.id)
  const waited = { returned: Object.keys(wrapper || {}) }
  try {
    waited.result = await wrapper.request()
  } catch (error) {
    waited.error = String(error && error.message)
  }
  let refused
  try {
    await chargebee.export.orders({ order: { status: { sounds_like: 'queued' } } })
  } catch (error) {
    refused = { status: error.http_status_code, api_error_code: error.api_error_code, param: error.param }
  }
  console.log(JSON.stringify({ created: created.export, exported, statuses, zip: zip.toString('base64'), waited, refused }))
}

main().catch(error => {
  console.error(error && error.stack ? error.stack : error)
  process.exit(1)
})
