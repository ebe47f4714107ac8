// Calls every @voucherify/sdk method that reaches an operation mockserver serves, each with only its
// required arguments (the minimal value of each), and prints one JSON line: method → "ok" or the error.
// Run by tests/test_sdk_sweep.py. Usage: MOCK_URL=http://127.0.0.1:PORT node sweep.js
'use strict'
const { VoucherifyServerSide } = require('@voucherify/sdk')

async function main () {
  const client = VoucherifyServerSide({ applicationId: 'js-sweep', secretKey: 'js-sweep-key', apiUrl: process.env.MOCK_URL })
  const made = {
    order: await client.orders.create({}),
    export: await client.distributions.exports.create({ exported_object: 'order' }),
    action: await client.orders.import([{}])
  }
  const calls = {
    'orders.create': () => client.orders.create({}),
    'orders.get': () => client.orders.get(made.order.id),
    'orders.update': () => client.orders.update({ id: made.order.id }),
    'orders.list': () => client.orders.list(),
    'orders.import': () => client.orders.import([{}]),
    'asyncActions.get': () => client.asyncActions.get(made.action.async_action_id),
    'distributions.exports.create': () => client.distributions.exports.create({ exported_object: 'voucher' }),
    'distributions.exports.get': () => client.distributions.exports.get(made.export.id),
    'distributions.exports.list': () => client.distributions.exports.list(),
    'distributions.exports.delete': () => client.distributions.exports.delete(made.export.id),
    'vouchers.exportTransactions': () => client.vouchers.exportTransactions('GIFT-1', {}),
    'loyalties.exportCardTransactions': () => client.loyalties.exportCardTransactions('LOYAL-1', null),
    'loyalties.exportCardTransactions(campaign)': () => client.loyalties.exportCardTransactions('LOYAL-1', 'camp_Sweep')
  }
  const results = {}
  for (const [name, call] of Object.entries(calls)) {
    try {
      const answer = await call()
      results[name] = { ok: true, answer: answer === undefined ? null : answer }
    } catch (error) {
      results[name] = { ok: false, error: String(error && (error.message || error)), details: error && error.details }
    }
  }
  console.log(JSON.stringify(results))
}

main().catch(error => {
  console.error(error && error.stack ? error.stack : error)
  process.exit(1)
})
