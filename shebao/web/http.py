from django.http import HttpRequest

from shebao.accounts.models import User


class AuthedRequest(HttpRequest):
    """A request behind LoginRequiredMiddleware: `user` is always a real User (for type checking)."""

    user: User  # type: ignore[assignment]
