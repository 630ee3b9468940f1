import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "k3#Pz9!vQm2@Lr7$Wt5^Yx8&Bn4*Hd6(Jf1)Gs0-Ac+Ue=Ki_Ol~Np",
    "CRYPTOGRAPHY_KEY": "an-independent-field-encryption-key",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "PORTAL_BASE_URL": "https://portal.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _run(args, env_overrides, settings="portal.settings.prod"):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CRYPTOGRAPHY_", "DATABASE_", "REDIS_"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": settings, **env_overrides})
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_the_encryption_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CRYPTOGRAPHY_KEY"}

    result = _run(["manage.py", "check"], env)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: CRYPTOGRAPHY_KEY is not set: export it or add it to "
        ".env (see README, Configuration)."
    ]


def test_wsgi_refuses_to_start_without_the_encryption_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CRYPTOGRAPHY_KEY"}

    result = _run(["-c", "import portal.wsgi"], env)

    assert result.returncode == 1
    assert "CRYPTOGRAPHY_KEY is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_off_base_settings_refuse_a_blank_encryption_key():
    result = _run(
        ["manage.py", "check"],
        {**PRODUCTION_ENV, "CRYPTOGRAPHY_KEY": "  ", "DJANGO_DEBUG": "false"},
        settings="portal.settings.base",
    )

    assert result.returncode == 1
    assert "CRYPTOGRAPHY_KEY is not set" in result.stderr


def test_check_deploy_with_production_values_prints_no_warning():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_when_production_has_no_shared_cache():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}

    result = _run(["manage.py", "check", "--deploy"], env)

    assert "portal.W001" in result.stderr
    assert "set REDIS_URL" in result.stderr


def test_behind_a_proxy_the_rate_limits_count_the_forwarded_address():
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from allauth.account.adapter import get_adapter\n"
        "request = RequestFactory().get('/', REMOTE_ADDR='10.0.0.2', "
        "HTTP_X_FORWARDED_FOR='203.0.113.9, 10.0.0.1')\n"
        "print(get_adapter(request).get_client_ip(request))\n"
    )

    direct = _run(["-c", script], PRODUCTION_ENV)
    proxied = _run(
        ["-c", script], {**PRODUCTION_ENV, "ALLAUTH_TRUSTED_PROXY_COUNT": "2"}
    )

    assert direct.stdout.strip() == "10.0.0.2", direct.stderr
    assert proxied.stdout.strip() == "203.0.113.9", proxied.stderr


def _email_settings(env_overrides, settings="portal.settings.prod"):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, "
        "s.EMAIL_USE_SSL, s.EMAIL_TIMEOUT)"
    )
    result = _run(["-c", code], env_overrides, settings=settings)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_sends_mail_over_smtp_with_starttls_by_default():
    values = _email_settings({**PRODUCTION_ENV, "EMAIL_HOST": "smtp.example.com"})

    assert values == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        "587",
        "True",
        "False",
        "10",
    ]


def test_production_with_implicit_tls_uses_port_465_and_no_starttls():
    values = _email_settings({**PRODUCTION_ENV, "EMAIL_USE_SSL": "true"})

    assert values[2:5] == ["465", "False", "True"]


def test_development_prints_mail_to_the_console():
    env = {
        "DJANGO_SECRET_KEY": "dev-secret",
        "CRYPTOGRAPHY_KEY": "dev-key",
        "DJANGO_READ_DOT_ENV_FILE": "false",
    }

    values = _email_settings(env, settings="portal.settings.dev")

    assert values[0] == "django.core.mail.backends.console.EmailBackend"
