"""The development commands of ``tower``: ``tower demo`` and ``tower world export``.

Registered through the ``tower.plugins`` entry point (pyproject.toml), so the product's CLI lists them
when this package is installed and never imports it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from tower.cli.inputs import load_settings
from tower.cli.output import console


def register(app: typer.Typer) -> None:
    """Add ``demo`` and ``world`` to the root app."""
    world_app = typer.Typer(help="The synthetic merchant world behind the sandbox.", no_args_is_help=True)
    app.add_typer(world_app, name="world")

    @world_app.command("export")
    def world_export(
        directory: Path = typer.Argument(..., help="Folder to write JSON/JSONL into."),
        brands: int = typer.Option(3, min=1, max=50),
        days: int = typer.Option(120, min=14, max=1000),
        orders_per_day: int = typer.Option(300, min=1),
        seed: int = typer.Option(7),
    ) -> None:
        """Generate the synthetic world and export it as JSON/JSONL (deterministic per seed)."""
        from tower_dev.world import WorldParams, export_world, generate_world

        world = generate_world(WorldParams(seed=seed, brands=brands, days=days, orders_per_day=orders_per_day))
        files = export_world(world, directory)
        console.print(f"[green]exported[/] {len(files)} files to {directory}")

    @app.command()
    def demo(
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the page when done."),
        brands: int = typer.Option(3, min=1, max=20, help="Demo brands."),
        days: int = typer.Option(120, min=35, max=730, help="Days of history."),
        orders_per_day: int = typer.Option(250, min=10, max=20000, help="Orders per brand per day."),
        seed: int = typer.Option(7, help="World seed."),
    ) -> None:
        """Run the whole pipeline on the sandbox and (by default) serve the page."""
        from tower_dev.demo import run_demo

        run_demo(load_settings(), brands=brands, days=days, orders_per_day=orders_per_day, seed=seed,
                 serve=serve, console=console)
