from django.conf import settings

from shebao.web.nav import nav_for


def site(request):  # type: ignore[no-untyped-def]
    user = getattr(request, "user", None)
    nav = nav_for(user, request.path) if user is not None and user.is_authenticated else []
    return {"site_centre_name": settings.SHEBAO_CENTRE_NAME, "nav": nav}
