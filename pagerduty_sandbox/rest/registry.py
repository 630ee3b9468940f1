"""The table of REST operations: (method, path template, handler)."""

ROUTES: list[tuple[str, str, object]] = []


def route(method: str, template: str):
    """Register a handler for `METHOD /template` as the spec spells it."""

    def register(handler):
        ROUTES.append((method, template, handler))
        return handler

    return register
