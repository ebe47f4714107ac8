// Drives mockserver with the official @voucherify/sdk client, unmodified:
// create an order, update it, export PAID orders, poll the export to DONE and
// download its CSV. Prints one JSON line for tests/test_sdk_orders.py to check.
// Usage: MOCK_URL=http://127.0.0.1:PORT node orders_export.js
'use strict'
const { VoucherifyServerSide } = require('@voucherify/sdk')

async function main () {
  const client = VoucherifyServerSide({
    applicationId: 'js-app',
    secretKey: 'js-token',
    apiUrl: process.env.MOCK_URL
  })
  const order = await client.orders.create({
    source_id: 'js-order-1',
    status: 'CREATED',
    customer: { source_id: 'js-customer' },
    items: [{ source_id: 'sku-1', related_object: 'sku', quantity: 2, price: 1500 }]
  })
  const paid = await client.orders.update({ id: order.id, status: 'PAID' })
  const created = await client.distributions.exports.create({
    exported_object: 'order',
    parameters: { fields: ['id', 'status', 'amount'], filters: { status: { conditions: { $in: ['PAID'] } } } }
  })
  const statuses = [created.status]
  let exported = created
  for (let i = 0; i < 10 && exported.status !== 'DONE'; i++) {
    exported = await client.distributions.exports.get(created.id)
    statuses.push(exported.status)
  }
  const csv = await (await fetch(exported.result.url)).text()
  console.log(JSON.stringify({ order, paid, export: exported, statuses, csv }))
}

main().catch(error => {
  console.error(error && error.stack ? error.stack : error)
  process.exit(1)
})
