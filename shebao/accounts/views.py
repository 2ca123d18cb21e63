from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from shebao.accounts.models import ApiToken, User
from shebao.accounts.services import token_create, token_revoke
from shebao.core.errors import DomainError
from shebao.web.decorators import requires


@requires("token.manage")
def token_list_view(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                token = ApiToken.objects.get(pk=int(request.POST["revoke"]))
                token_revoke(actor=request.user, token=token)  # type: ignore[arg-type]
                messages.success(request, f"已吊销令牌 {token.prefix}…")
                return redirect("accounts:tokens")
            user = User.objects.get(username=request.POST.get("username", ""))
            _token, new_key = token_create(actor=request.user, user=user, name=request.POST.get("name", ""))  # type: ignore[arg-type]
        except User.DoesNotExist:
            messages.error(request, "用户不存在")
        except (ApiToken.DoesNotExist, ValueError):
            messages.error(request, "令牌不存在")
        except DomainError as exc:
            messages.error(request, exc.message)
    tokens = ApiToken.objects.select_related("user").order_by("-created_at")
    return render(request, "accounts/tokens.html", {"tokens": tokens, "new_key": new_key})
