"""`python -m marketsim`: the same as the `marketsim` command."""

from marketsim.cli import main

if __name__ == "__main__":
    main()
