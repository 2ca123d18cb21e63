"""The one way a 领卡通知 leaves the system: a pluggable sender named by a dotted path in the settings.

A centre plugs in its SMS gateway or fax server by setting ``SHEBAO_CARD_NOTICE_SENDER`` to a class with
a ``name`` and a ``send(notice) -> str`` method (returning the gateway's reference, raising
``NoticeSendError`` on failure). The default writes to the log; the notice itself keeps the full message,
so the outlet's page shows what was sent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from django.utils.module_loading import import_string

from shebao.cards.conf import notice_sender_path

if TYPE_CHECKING:
    from shebao.cards.models import CardNotice

logger = logging.getLogger("shebao.cards.notices")


class NoticeSendError(Exception):
    """The channel refused or failed; the message is shown to the clerk."""


class NoticeSender(Protocol):
    name: str

    def send(self, notice: CardNotice) -> str: ...


class LogSender:
    """Demo sender: writes the notice to the log (and the page shows the stored message)."""

    name = "演示通道（写入日志）"

    def send(self, notice: CardNotice) -> str:
        logger.info(
            "领卡通知#%s [%s] 至 %s：%s",
            notice.pk,
            notice.get_channel_display(),
            notice.recipient or "（未填号码）",
            notice.message,
        )
        return f"LOG-{notice.pk}"


def get_sender() -> NoticeSender:
    path = notice_sender_path()
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise NoticeSendError(f"通知发送通道设置有误：{path}") from exc
    return cls()  # type: ignore[no-any-return]
