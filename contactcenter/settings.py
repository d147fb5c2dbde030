"""Settings for the contact-center platform.

Every value comes from the environment (CONTRACT.md lists the variables); the defaults run the
whole platform on one machine with nothing else installed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from contactcenter.env import (
    envbase64,
    envbool,
    envint,
    envlist,
    envnetworks,
    envrate_per_minute,
    envurl,
    generated_once,
    private_directory,
    private_sqlite_database,
    random_secret_key,
)
from contactcenter.identity_provider.pkce import pkce_required
from contactcenter.lib.keygen import new_rsa_private_key_pem

BASE_DIR = Path(__file__).resolve().parent.parent
# Keys, secrets and the SQLite database (sessions, tokens) live here: this user's only.
VAR_DIR = BASE_DIR / "var"
private_directory(VAR_DIR)

DEBUG = envbool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or generated_once(
    VAR_DIR / "secret_key", random_secret_key
)
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

# Newest first: the first key encrypts, every key decrypts (rotation).
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEYS") or [
    generated_once(VAR_DIR / "field_encryption_key", lambda: Fernet.generate_key().decode())
]

INSTALLED_APPS = [
    "daphne",
    "contactcenter.adminsite.site.ContactCenterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "oauth2_provider",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "formtools",
    "simple_history",
    "csp",
    "axes",
    "contactcenter",
    "authsettings",
    "workstreams",
    "messaging",
]

MIDDLEWARE = [
    "contactcenter.middleware.trusted_proxy_middleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contactcenter.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "contactcenter.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# A server process keeps its database connection between requests and socket frames (each
# process reaches the database from one thread): opening one costs more than a chat start. No
# health check before each use either (Channels ends every database call as Django ends a
# request, so each would cost a round trip more): a connection the server dropped fails the one
# call that finds it so, and the next call opens a new one.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=envint("DATABASE_CONN_MAX_AGE", 600), conn_health_checks=False
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    private_sqlite_database(Path(DATABASES["default"]["NAME"]))
    DATABASES["default"].update(
        {
            # WAL lets readers go on while a chat is written; IMMEDIATE takes the write lock
            # at the start of a transaction, so concurrent writers wait instead of failing.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory: live-server tests share the test database with a server
            # process. One per test run, so runs side by side do not meet.
            "TEST": {"NAME": VAR_DIR / f"test_db_{os.getpid()}.sqlite3"},
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and envbool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Parameters travel apart from the statement (server-side binding), so psycopg prepares a
    # statement a connection runs again (after 5 runs): PostgreSQL then parses and plans it
    # once, not each time. A chat's statements are few and run all the time (bench/README.md
    # has what it saves). Off for a pooler in transaction mode that cannot keep prepared
    # statements.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Events cross processes through Redis Pub/Sub: each process holds one subscription
# connection, which Redis pushes every event of its sockets' groups to, and telling a group is
# one PUBLISH. (channels-redis's list-based layer pops each event with several round trips, one
# event at a time per process: under load that queue, not the work, set the pace.) An event
# reaches the sockets listening when it is told, once: one told while a process's subscription
# is being made again is missed there, and its agent or visitor finds the message in the
# transcript at the next reload or resume. redis-py keeps TCP keepalive on (probes after 30
# seconds of quiet), so a subscription whose connection died unseen is noticed within a minute
# and made again; other reads give up after REDIS_READ_SECONDS.
REDIS_READ_SECONDS = 15
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_READ_SECONDS}]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "contactcenter.lib.shared_cache.KeptClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cc",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "contactcenter.identity_provider.sign_in.RequestSignInBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in forms: 10 failures in a row for a username from one address lock that pair out for
# 15 minutes (429); so do 10 refused /o/token/ requests from one address
# (contactcenter.identity_provider.sign_in).
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "contactcenter.identity_provider.sign_in.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_COOLOFF_MESSAGE = (
    "Too many failed sign-ins for this account from your address. Please try again in "
    f"{AXES_COOLOFF_TIME.seconds // 60} minutes."
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # `collectstatic` (the run command runs it; so must every deploy) writes each file under a
    # name hashed from its content, with a gzip copy; contactcenter/asgi.py serves them. With
    # debug off, pages name the hashed files, so a page fails until collectstatic has run.
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}

# Who signs in at the platform's own identity provider (/o/): the sample portal's customers.
# Staff sign in at /admin/ and agents at /agent/login/, each page naming its own login.
LOGIN_URL = "portal:login"

# The platform's own authorization server: API clients (client credentials) and the
# embedded OpenID Connect provider the sample portal signs visitors in through.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "config:read": "Read configuration",
        "config:write": "Change configuration",
        "conversations:read": "Read conversations",
        "conversations:write": "Act on conversations (request a sign-in)",
        "openid": "Sign in with OpenID Connect",
        "profile": "Name of the signed-in user",
        "email": "Email address of the signed-in user",
    },
    "DEFAULT_SCOPES": ["config:read"],
    "SCOPES_BACKEND_CLASS": "contactcenter.api.scopes.ApiClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": envint("CC_API_TOKEN_SECONDS", 3600, minimum=60),
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": generated_once(
        VAR_DIR / "oidc_rsa_private_key.pem", new_rsa_private_key_pem
    ),
    "PKCE_REQUIRED": pkce_required,
    # RFC 9700 (OAuth 2.0 Security Best Current Practice): no implicit or password grant,
    # PKCE with S256 only, bearer tokens never in the query string, `iss` in authorization
    # responses, tokens stored hashed, a replayed refresh token revokes its whole family.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # http stays allowed for redirect URIs on loopback only (RFC 8252, `make run`): the
    # validator refuses it anywhere else (oauth2_provider.W008 is silenced for that).
    "OAUTH2_VALIDATOR_CLASS": (
        "contactcenter.identity_provider.authorization_server.PlatformValidator"
    ),
}

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

# Runtime rules (CONTRACT.md "Environment" and "Token rules").
CC_OUTBOUND_ALLOWED_HOSTS = envlist("CC_OUTBOUND_ALLOWED_HOSTS")
CC_JWT_LEEWAY_SECONDS = envint("CC_JWT_LEEWAY_SECONDS", 30)
CC_KEY_CACHE_SECONDS = envint("CC_KEY_CACHE_SECONDS", 300, minimum=1)
CC_JWT_MAX_LIFETIME_SECONDS = envint("CC_JWT_MAX_LIFETIME_SECONDS", 86400, minimum=1)
CC_WIDGET_STARTS_PER_MINUTE = envint("CC_WIDGET_STARTS_PER_MINUTE", 120)
CC_WIDGET_MESSAGES_PER_SECOND = envint("CC_WIDGET_MESSAGES_PER_SECOND", 5)

# Operations (CONTRACT.md "Operations"): refused sign-ins are kept this many days; /metrics
# answers only a request bearing this token (404 while it is unset).
CC_FAILURE_LOG_DAYS = envint("CC_FAILURE_LOG_DAYS", 14, minimum=1)
CC_METRICS_TOKEN = os.environ.get("CC_METRICS_TOKEN", "").strip()

# Where the platform is reached from outside (`https://cc.example.com`, no trailing slash):
# the base of every URL it hands out, and its own origin. Empty: the request's own address.
CC_PUBLIC_URL = envurl("CC_PUBLIC_URL")
# Apple Messages for Business: the Messaging Service Provider id Apple assigned, the shared
# secret (its base64-decoded bytes sign and verify HS256 JWTs both ways), and Apple's gateway.
APPLE_MSP_ID = os.environ.get("CC_APPLE_MSP_ID", "").strip()
APPLE_MSP_SECRET = envbase64("CC_APPLE_MSP_SECRET")
APPLE_GATEWAY_URL = envurl(
    "CC_APPLE_GATEWAY_URL", "https://mspgw.push.apple.com/v1", with_path=True
)
# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (contactcenter.proxies).
CC_TRUSTED_PROXIES = envnetworks("CC_TRUSTED_PROXIES")

# Plain http only on a private network: otherwise cookies are Secure, browsers are told to
# come back over https only (HSTS), and http requests are redirected to https.
CC_SECURE_TRANSPORT = envbool("CC_SECURE_TRANSPORT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = CC_SECURE_TRANSPORT
# Load balancers poll the health check over plain http on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if CC_SECURE_TRANSPORT else 0
# The platform has a host of its own (cc.example.com): hosts under it are its own too.
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading binds the whole registered domain for good: the operator's choice, not ours.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021", "oauth2_provider.W008"]

# Scripts only from the platform, or inline with the response's nonce (the sample portal);
# styles may be inline, as Django's admin, the browsable API and the API docs have them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        # The agent console's and the widget's sockets ('self' covers ws: and wss: there).
        "connect-src": [SELF, *([CC_PUBLIC_URL.replace("http", "ws", 1)] if CC_PUBLIC_URL else [])],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Token custom actions for `oauth2` settings: name -> dotted path of a callable.
# Projects add their own here; the built-in ones are always available.
CC_TOKEN_ACTIONS: dict[str, str] = {}

# Debug error pages show the settings: without the passwords in the services' URLs.
DEFAULT_EXCEPTION_REPORTER_FILTER = "contactcenter.error_reports.ServicePasswordsFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# REST API (CONTRACT.md "REST API"): JSON only, paginated lists, per-client rate limits.
# The API views set their own authentication, scope permission and throttles
# (contactcenter/api/); these defaults cover any other DRF view.
REST_FRAMEWORK = {
    # Bearer tokens from the Authorization header only (contactcenter.api.authentication).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "contactcenter.api.authentication.ApiClientAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PARSER_CLASSES": ["contactcenter.api.parsers.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per API client (OAuth application); None turns a limit off.
    "DEFAULT_THROTTLE_RATES": {
        "api_client_read": envrate_per_minute("CC_API_READS_PER_MINUTE", 600),
        "api_client_write": envrate_per_minute("CC_API_WRITES_PER_MINUTE", 120),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Contact center API",
    "DESCRIPTION": "Configuration and conversations of the contact center. API clients use "
    "OAuth 2.0 bearer tokens from /o/token/ (client credentials); each operation names the "
    "scope it needs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RecordStatusEnum": "messaging.models.Deployment.Status",
        "ConversationStatusEnum": "messaging.models.Conversation.Status",
        "ContextVariableTypeEnum": "workstreams.models.ContextVariable.Type",
        "RichMessageTypeEnum": "messaging.models.RichMessage.Type",
        "ChannelKindEnum": "messaging.models.ChannelInstance.Kind",
        "MessageDeliveryEnum": "messaging.models.Message.Delivery",
    },
}
