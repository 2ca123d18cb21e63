from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a login, except the API (its own token/session auth answers 401) and static files."""

    EXEMPT_PREFIXES = ("/api/", "/static/")

    def process_view(self, request, view_func, view_args, view_kwargs):  # type: ignore[no-untyped-def]
        if request.path.startswith(self.EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class DomainPermissionMiddleware:
    """A scope refusal raised by a selector or service becomes a 403 page and an audit row."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        return self.get_response(request)

    def process_exception(self, request, exception):  # type: ignore[no-untyped-def]
        from django.db import transaction

        from shebao.audit import actions
        from shebao.audit.services import audit_record
        from shebao.core.errors import PermissionDenied
        from shebao.web.views import forbidden

        if not isinstance(exception, PermissionDenied):
            return None
        user = request.user if request.user.is_authenticated else None
        with transaction.atomic():
            audit_record(
                actor=user,
                action=actions.SCOPE_DENIED,
                object_type="url",
                object_id="",
                object_repr=request.path[:200],
                new={"method": request.method},
                reason=exception.message,
            )
        return forbidden(request, exception)
