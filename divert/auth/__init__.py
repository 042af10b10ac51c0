"""Sign-in, sign-out, sessions, the policy (named abilities) and visibility."""

from divert.auth.access import PUBLIC, ability_of, access_of, public, requires
from divert.auth.policy import can, check, holds

__all__ = ["PUBLIC", "ability_of", "access_of", "can", "check", "holds", "public", "requires"]
