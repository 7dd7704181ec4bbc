"""Settings: the database comes from DATABASE_URL; the embedded server is only the default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from schemabuilder.embedded import embedded_url
from schemabuilder.settings import database_from_url

ROOT = Path(__file__).resolve().parent.parent


def test_it_parses_a_tcp_database_url() -> None:
    db = database_from_url("postgresql://app:s%40cret@db.internal:6543/prod_app?sslmode=require")
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "prod_app",
        "app",
        "s@cret",
        "db.internal",
        "6543",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}
    assert (db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"]) == (60, True)


def test_every_query_option_reaches_the_driver() -> None:
    db = database_from_url(
        "postgresql://app@db.internal/app?sslmode=verify-full&connect_timeout=5"
        "&options=-c%20statement_timeout%3D30000&application_name=sab"
    )
    assert db["OPTIONS"] == {
        "sslmode": "verify-full",
        "connect_timeout": 5,
        "options": "-c statement_timeout=30000",
        "application_name": "sab",
    }


def test_it_parses_a_unix_socket_url() -> None:
    db = database_from_url("postgresql://postgres@/schemabuilder?host=/tmp/Sock")
    assert (db["NAME"], db["HOST"], db["PORT"], db["OPTIONS"]) == (
        "schemabuilder",
        "/tmp/Sock",
        "",
        {},
    )


def test_a_database_url_of_another_kind_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="postgresql://"):
        database_from_url("mysql://app@db.internal/app")


def test_the_embedded_url_points_into_the_data_dir(tmp_path: Path) -> None:
    assert embedded_url("x", tmp_path / "pg") == f"postgresql://postgres@/x?host={tmp_path / 'pg'}"


def _settings_in_subprocess(env: dict[str, str], expr: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expr})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "schemabuilder.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_database_url_is_honoured(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARGET_")}
    env.update(
        DATABASE_URL="postgresql://u:p@example.invalid:5999/appdb",
        SB_DATA_DIR=str(tmp_path),
        TARGET_PROD_URL="postgresql://t@example.invalid/tgt",
    )
    out = _settings_in_subprocess(
        env,
        "settings.DATABASES['default']['HOST'], settings.DATABASES['default']['NAME'],"
        " settings.DEBUG, settings.TARGET_URLS",
    )
    assert out == "example.invalid appdb False {'prod': 'postgresql://t@example.invalid/tgt'}"


def test_debug_is_off_unless_asked_for(tmp_path: Path) -> None:
    env = {**os.environ, "SB_DATA_DIR": str(tmp_path)}
    env.pop("DEBUG", None)
    assert _settings_in_subprocess(env, "settings.DEBUG") == "False"
    assert _settings_in_subprocess({**env, "DEBUG": "1"}, "settings.DEBUG") == "True"


def test_the_secret_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    env = {**os.environ, "SB_DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    first = _settings_in_subprocess(env, "settings.SECRET_KEY")
    assert _settings_in_subprocess(env, "settings.SECRET_KEY") == first
    assert (tmp_path / "secret_key").read_text() == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert (
        _settings_in_subprocess({**env, "SECRET_KEY": "from-env"}, "settings.SECRET_KEY")
        == "from-env"
    )


def test_without_database_url_alias_dev_is_the_embedded_demo_database(tmp_path: Path) -> None:
    """As `make run` sets it for its web and worker, so the shell commands reach it too; an
    explicit TARGET_DEV_URL wins."""
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("TARGET_")
    }
    env["SB_DATA_DIR"] = str(tmp_path)
    out = _settings_in_subprocess(env, "settings.TARGET_URLS")
    assert out == repr(
        {
            "dev": embedded_url(
                "schemabuilder_demo", tmp_path / "postgres", user="schemabuilder_demo_target"
            )
        }
    )
    mine = "postgresql://t@example.invalid/mine"
    assert _settings_in_subprocess({**env, "TARGET_DEV_URL": mine}, "settings.TARGET_URLS") == (
        repr({"dev": mine})
    )
