"""`python -m tenantlint` runs the command line, as the `tenantlint` script does."""
from tenantlint.cli import main

if __name__ == "__main__":
    main()
