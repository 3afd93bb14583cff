"""The wire primitives: structured fields, one codec per AAuth header, Content-Digest,
the signature base with signing and verification, and strict HTTP field readers.

Nothing here knows about keys discovery, tokens or policy: these modules turn bytes on
the wire into values and back, and refuse malformed text with a stable error code.
"""
