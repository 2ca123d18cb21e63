"""Settings: everything that varies comes from the environment (see shebao.core.config)."""

import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shebao.core.config import database_config, env_bool, env_int, env_list, env_str, env_yuan, secret_key

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("SHEBAO_DATA_DIR", str(BASE_DIR.parent / "var")))

DEBUG = env_bool("DEBUG", default=False)
DEMO = env_bool("SHEBAO_DEMO", default=False)
TESTING = "pytest" in sys.modules
SECRET_KEY = secret_key(DATA_DIR, debug=DEBUG or DEMO or TESTING)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "shebao.core",
    "shebao.accounts",
    "shebao.audit",
    "shebao.jobs",
    "shebao.orgs",
    "shebao.people",
    "shebao.cards",
    "shebao.switching",
    "shebao.payments",
    "shebao.campaigns",
    "shebao.web",
    "shebao.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shebao.web.middleware.LoginRequiredMiddleware",
    "shebao.web.middleware.DomainPermissionMiddleware",
]

ROOT_URLCONF = "shebao.urls"
WSGI_APPLICATION = "shebao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shebao.web.context_processors.site",
            ],
            "builtins": ["shebao.web.templatetags.shebao_tags"],
        },
    }
]

DATABASES = {"default": database_config(DATA_DIR / "shebao.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["shebao.accounts.backends.LockoutModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("SHEBAO_LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_MINUTES = env_int("SHEBAO_LOGIN_LOCKOUT_MINUTES", 15)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

# Security: secure cookies whenever served over HTTPS (production); the demo runs on plain localhost.
SECURE_HTTPS = env_bool("SHEBAO_HTTPS", default=not (DEBUG or DEMO or TESTING))
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SHEBAO_SESSION_SECONDS", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000

TASKS = {
    "default": {
        "BACKEND": env_str("SHEBAO_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

SHEBAO_JOBS_INLINE = env_bool("SHEBAO_JOBS_INLINE", default=False)
SHEBAO_CENTRE_NAME = env_str("SHEBAO_CENTRE_NAME", "寿县社会养老保险中心")
SHEBAO_REGION_CODE = env_str("SHEBAO_REGION_CODE", "341521")

# Cards (read by shebao/cards/conf.py): validity, pickup deadline, notice sender, temporary-card fee and
# reconciliation day, liveness-proof upload limits.
SHEBAO_CARD_VALID_YEARS = env_int("SHEBAO_CARD_VALID_YEARS", 10)
SHEBAO_CARD_UNIT_PICKUP_WORKDAYS = env_int("SHEBAO_CARD_UNIT_PICKUP_WORKDAYS", 5)
SHEBAO_CARD_NOTICE_SENDER = env_str("SHEBAO_CARD_NOTICE_SENDER", "shebao.cards.notify.LogSender")
SHEBAO_TEMP_CARD_FEE = env_yuan("SHEBAO_TEMP_CARD_FEE", "20.00")
SHEBAO_TEMP_CARD_RECONCILE_DAY = env_int("SHEBAO_TEMP_CARD_RECONCILE_DAY", 15)
SHEBAO_LIVENESS_VIDEO_MAX_BYTES = env_int("SHEBAO_LIVENESS_VIDEO_MAX_BYTES", 50 * 1024 * 1024)
SHEBAO_LIVENESS_PHOTO_MAX_BYTES = env_int("SHEBAO_LIVENESS_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
# 寿县: an approved switch pays from the month after the unit submitted it (次月); 0 = the same month.
SHEBAO_SWITCH_DELAY_MONTHS = env_int("SHEBAO_SWITCH_DELAY_MONTHS", 1)
if not 0 <= SHEBAO_SWITCH_DELAY_MONTHS <= 12:
    raise ImproperlyConfigured("SHEBAO_SWITCH_DELAY_MONTHS must be a number of months between 0 and 12")
SHEBAO_MEDICAL_BALANCE_SOURCE = env_str("SHEBAO_MEDICAL_BALANCE_SOURCE", "shebao.campaigns.medical.NoMedicalSystem")
if not 1 <= SHEBAO_TEMP_CARD_RECONCILE_DAY <= 28:
    raise ImproperlyConfigured("SHEBAO_TEMP_CARD_RECONCILE_DAY must be a day between 1 and 28")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
