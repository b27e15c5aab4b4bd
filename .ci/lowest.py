"""Print `name==lowest` for every dependency in pyproject.toml, for CI's lowest-versions run.

The lower bounds in pyproject are promises ("tested with these"); CI keeps them honest by
installing exactly them in a second venv and running the provider and CLI tests there.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
for requirement in project["dependencies"]:
    match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*[^;]*?>=\s*([^,;\s]+)", requirement)
    if not match:
        sys.exit(f"no lower bound in {requirement!r}: pyproject must give every dependency one")
    print(f"{match[1]}=={match[2]}")
