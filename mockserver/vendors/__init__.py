"""Vendor dialects: each speaks one API's credentials, errors and operations."""
