"""ab2n: add fitting background music to videos, locally, in seconds.

The public API is re-exported here; modules are private by convention.
"""

from ab2n.errors import Ab2nError

__version__ = "0.1.0"

__all__ = ["Ab2nError", "__version__"]
