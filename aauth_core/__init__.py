"""aauth_core: the framework-free AAuth engine (profile ``aauth-2026-01``).

Start from :class:`aauth_core.service.AAuthService` (a resource), the framework
adapters (``aauth_starlette``, ``aauth_flask``, ``aauth_django``),
:func:`aauth_core.client.agent_auth` (an agent) or
:class:`aauth_core.authserver.AuthServer` (an auth server).
"""

__version__ = "0.1.0"
