"""What every process of the test run skips at start-up, set before the plugins' entry points load (`-p` in
pyproject's addopts) and inherited by the child Pythons the tests start.

HYPOTHESIS_NO_PLUGINS: importing hypothesis runs every "hypothesis" entry point of the environment, after
reading every installed distribution's entry points to find them. The one here is trio's (installed with
selenium, for the browser test), which imports trio: 0.2 s of CPU of the 0.4 s hypothesis' import costs, in
each xdist worker, the controller and every child that imports hypothesis (`mockserver contract`, child pytest
runs, the stateful walks). No test uses trio with hypothesis. (docs/performance.md, "Test loop", seventh pass)
"""

from __future__ import annotations

import os

os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
