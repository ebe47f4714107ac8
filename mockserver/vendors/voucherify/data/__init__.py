"""Voucherify's part of the data engine: its world (campaigns, customers, vouchers and their id
codes, world.py) and the recipes of its exported objects (recipes.py), declared here as the
vendor's data_recipes. Declared, not imported: they and the engine's libraries load with the first
rows made (mockserver.data.model.Recipes), so the server starts without them.
"""

from __future__ import annotations

from ....data.model import Recipes

RECIPES = Recipes(
    f"{__name__}.recipes",
    frozenset(
        {
            "order",
            "voucher",
            "publication",
            "redemption",
            "customer",
            "points_expiration",
            "voucher_transactions",
            "product",
            "sku",
        }
    ),
)

__all__ = ["RECIPES"]
