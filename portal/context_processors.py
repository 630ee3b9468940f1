from integrations.selectors import environment_list


def navigation(request):
    """Return what the shell's navigation needs on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {"nav_environments": environment_list()}
