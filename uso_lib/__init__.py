"""uso: the municipal situation-analysis workbench (kunnan tilanneanalyysi)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("uso-lib")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
