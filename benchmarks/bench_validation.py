"""The accept path on a typical create body: jsonschema-rs vs jsonschema (vs the old quickcheck.py).

    PYTHONPATH=. python benchmarks/bench_validation.py [--rounds 20000] [--quickcheck FILE]

Times one valid Voucherify order-export create body (fields, order, filters with a date condition)
against its discriminator branch: validation.acceptor (jsonschema-rs, the server's accept path),
jsonschema's Draft7Validator.is_valid, and, given a copy of the removed mockserver/quickcheck.py
(`git show acf08ab:mockserver/quickcheck.py > /tmp/quickcheck.py`), its compile_acceptor.
Prints µs per check; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jsonschema import Draft7Validator  # noqa: E402

from mockserver.spec import load_spec  # noqa: E402
from mockserver.validation import FORMATS, acceptor, with_ecma_patterns  # noqa: E402

BODY = {
    "exported_object": "order",
    "parameters": {
        "fields": ["id", "source_id", "status", "amount", "created_at", "metadata.channel"],
        "order": "-created_at",
        "filters": {
            "junction": "and",
            "status": {"conditions": {"$in": ["PAID", "CREATED"]}},
            "created_at": {"conditions": {"$after": ["2024-01-01T00:00:00Z"]}},
        },
    },
}


def per_check(check, rounds: int) -> float:
    assert check(BODY), "the body must be valid"
    start = time.perf_counter()
    for _ in range(rounds):
        check(BODY)
    return (time.perf_counter() - start) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--quickcheck", type=Path, help="a copy of the removed mockserver/quickcheck.py")
    args = parser.parse_args()
    body = load_spec("voucherify").operation("create-export").body_schemas["application/json"]
    branch = body["discriminator"]["mapping"]["order"]
    checks = {
        "jsonschema-rs (validation.acceptor)": acceptor(branch),
        "jsonschema Draft7Validator.is_valid": Draft7Validator(
            with_ecma_patterns(branch), format_checker=FORMATS
        ).is_valid,
    }
    if args.quickcheck:
        spec = importlib.util.spec_from_file_location("quickcheck", args.quickcheck)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        checks["quickcheck.compile_acceptor (removed)"] = module.compile_acceptor(with_ecma_patterns(branch), FORMATS)
    for name, check in checks.items():
        print(f"{name:40s} {per_check(check, args.rounds):8.1f} µs per body")


if __name__ == "__main__":
    main()
