"""Vendors: each package speaks one API's credentials, errors and operations (base.Vendor);
mockserver.registry finds them through the `mockserver.vendors` entry points."""
