"""Settings of the cards app, each with a default (a centre overrides them in its settings)."""

from datetime import date
from decimal import Decimal

from django.conf import settings


def card_valid_years() -> int:
    """社保卡有效期 in years (10 unless the centre's settings say otherwise)."""
    return int(getattr(settings, "SHEBAO_CARD_VALID_YEARS", 10))


def unit_pickup_workdays() -> int:
    """单位集中领卡: working days after the notice within which the two clerks must come."""
    return int(getattr(settings, "SHEBAO_CARD_UNIT_PICKUP_WORKDAYS", 5))


def default_expiry(issue_date: date) -> date:
    """Expiry when the factory leaves it blank: the same day `card_valid_years()` later (29 Feb → 28 Feb)."""
    year = issue_date.year + card_valid_years()
    try:
        return issue_date.replace(year=year)
    except ValueError:
        return issue_date.replace(year=year, day=28)


def notice_sender_path() -> str:
    """Dotted path of the one class that sends 领卡通知 (SMS gateway, fax server...); the default only logs."""
    return str(getattr(settings, "SHEBAO_CARD_NOTICE_SENDER", "shebao.cards.notify.LogSender"))


def temp_card_fee() -> Decimal:
    """工本费 for a lost or damaged temporary card (20 yuan unless the centre's settings say otherwise)."""
    from shebao.core.values.money import parse_yuan

    return parse_yuan(str(getattr(settings, "SHEBAO_TEMP_CARD_FEE", "20.00")))


def temp_card_reconcile_day() -> int:
    """Day of the month on which temporary cards and fees are reconciled (the next working day if not one)."""
    return int(getattr(settings, "SHEBAO_TEMP_CARD_RECONCILE_DAY", 15))


def liveness_max_bytes(kind: str) -> int:
    """Upload limit of a liveness proof: a video may be larger than a photo."""
    if kind == "video":
        return int(getattr(settings, "SHEBAO_LIVENESS_VIDEO_MAX_BYTES", 50 * 1024 * 1024))
    return int(getattr(settings, "SHEBAO_LIVENESS_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def liveness_phrase() -> str:
    """The set phrase the holder reads aloud in the video (规定话语)."""
    return str(
        getattr(settings, "SHEBAO_LIVENESS_PHRASE", "本人申请邮寄社会保障卡，今天是{date}，本人姓名{name}。")
    )
