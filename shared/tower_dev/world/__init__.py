"""The synthetic merchant world: deterministic brands, catalogs, stock, orders and ad accounts.

It is the truth the sandbox servers serve and the tests compare the warehouse against::

    from tower_dev.world import WorldParams, generate_world
    world = generate_world(WorldParams(seed=7, brands=3, days=120, orders_per_day=300))
    for bw in world.brands:
        bw.tables["orders"]  # exactly the DDL columns

Planted situations (the product plan's story) and how to measure them are in ``world.manifest``;
see :mod:`tower_dev.world.manifest` for the definitions and :mod:`tower_dev.world.brands`
for who carries what.
"""

from tower_dev.world.export import export_world
from tower_dev.world.generate import BrandWorld, World, generate_world
from tower_dev.world.params import DEFAULT_END_DATE, WorldParams

__all__ = ["DEFAULT_END_DATE", "BrandWorld", "World", "WorldParams", "export_world", "generate_world"]
