"""``python -m tower.cli``: the ``tower`` command without its console script."""

from tower.cli import main

if __name__ == "__main__":  # importing the module (as the zip's import test does) runs nothing
    main()
