"""Voucherify's part of the data engine: its world (campaigns, customers, vouchers and their id
codes) and the recipes of its exported objects. Importing the vendor package registers them
with mockserver.data.blocks, which knows no vendor.
"""

from __future__ import annotations

from ....data.blocks import register
from .recipes import RECIPES
from .world import World, world

register(RECIPES, world=world)

__all__ = ["RECIPES", "World", "world"]
