"""Runnable parties of the seed demo and the flows that drive them.

``python -m sample_apps serve agent|resource|authserver --port P ...`` runs one
party; ``python -m sample_apps token-exchange`` (and ``hwk``, ``jwks``,
``authorization``, ``consent``, ``delegation``, ``chain``) starts the parties a
flow needs on loopback, drives them and prints the exchange like the transcript.

Every sample party listens on 127.0.0.1 over plain http, so each one turns on
the development switch ``allow_insecure_loopback``; nothing else in the project
does.
"""
