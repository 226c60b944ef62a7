"""OneRoster 1.1 REST pull source: pages a OneRoster API with dlt's RESTClient and lands the
records through the OneRoster CSV loader (``loaders.oneroster.pipeline.load_package``).

See docs/rest.md for the source settings.
"""

from loaders.oneroster_rest.config import ENTITIES, RestConfigError, RestSourceConfig
from loaders.oneroster_rest.errors import RestAuthError, RestPullError
from loaders.oneroster_rest.pipeline import SOURCE, pull, read_source_file

__all__ = [
    "ENTITIES",
    "SOURCE",
    "RestAuthError",
    "RestConfigError",
    "RestPullError",
    "RestSourceConfig",
    "pull",
    "read_source_file",
]
