from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    """Warn when production runs on a per-process cache.

    Login rate limits and the PagerDuty read cache must be shared by all
    workers, or each worker keeps its own counters.
    """
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        return [
            Warning(
                "The cache is per process: set REDIS_URL so login rate limits "
                "and cached PagerDuty reads are shared by every worker.",
                id="portal.W001",
            )
        ]
    return []
