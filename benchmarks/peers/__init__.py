"""Peers measured against us: ``aauth`` 0.1.0 (in its own venv, see ``setup.sh``) and
``http-message-signatures`` 3.x (in ours).  ``aauth_peer.py`` runs in the peer venv
and must import nothing of ours."""
