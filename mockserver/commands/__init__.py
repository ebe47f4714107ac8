"""The commands beside `serve` (mockserver/cli.py, the entry point, builds the parser and serves):
`contract` (check an implementation against the contract), `generate` (an export's CSV offline) and
`proxy` (forward to a real API, checking its traffic). Each module adds its command's parser and runs
it; the entry point imports one only when its command is named, so `mockserver --help` loads none."""
