"""The contract-testing kit: prove that an implementation (a vendor sandbox,
your own service, or our mock) follows a bulk-export contract.

schemathesis (driven through its Python API) brings generated positive and
negative requests and its built-in checks; `checks` adds the ones a schema
cannot express. `runner.run_contract` is the entry point; `cli` and
`mockserver.pytest_plugin` are its two front ends.

Importing this package does not import schemathesis; `runner` does.
"""
