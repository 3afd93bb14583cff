"""Django's own users approve agents: ``aauth_django.authserver.auth_server_urls`` in a real project.

The project (``tests/authserver/django_site``) has a database, sessions and Django's login
view, so it runs in its own process, where its settings cannot meet the adapter tests'.
It drives the real flow with Django's test client: signed out → Django's login view →
back to the consent page as ``request.user`` → approve → redeem the code (``sub`` is the
Django user name).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_django_login_session_and_consent() -> None:
    pytest.importorskip("django")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DJANGO_SETTINGS_MODULE"] = "tests.authserver.django_site.settings"
    done = subprocess.run([sys.executable, "-m", "tests.authserver.django_site.flow"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("django consent flow: ok")
