"""Vendor dialects: each speaks one API's credentials, errors and operations."""


def builtin_vendors() -> list[type]:
    """The vendors this package ships (the one place naming them until the vendor registry lands)."""
    from .chargebee import Chargebee
    from .voucherify import Voucherify

    return [Voucherify, Chargebee]
