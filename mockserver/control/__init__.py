"""The control plane: how users steer the mock per request and per run.

- prefer.py: the `Prefer` header (Prism's code/example/dynamic, our export knobs)
- answers.py + generate.py: answers straight from the spec (Prefer code/example/dynamic, --stateless)
- faults.py: latency, random 5xx, rate limiting
- journal.py: a bounded record of recent requests, for asserting what a client sent
- cors.py: CORS for browser frontends
- admin.py: the auth-free `/__mock/` API
- config.py: the optional mockserver.yaml
"""
