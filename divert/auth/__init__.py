"""Sign-in, sign-out, sessions and who may use each route."""

from divert.auth.access import CASEWORKING, PUBLIC, SIGNED_IN, access_of, public, requires

__all__ = ["CASEWORKING", "PUBLIC", "SIGNED_IN", "access_of", "public", "requires"]
