"""A Django project serving the auth server with Django's own users (tests/authserver/test_django_authserver.py).

Run in a subprocess (``python -m tests.authserver.django_site.flow``): its settings
(a database, sessions, Django's login view) must not meet the adapter tests' settings.
"""
