"""The data model: one module per aggregate. Importing this package registers every table."""

from . import guards as guards
from . import journey as journey
from .api import ApiToken, IdempotentRequest
from .audit import AuditEntry, ChangeRecord
from .base import Base, utcnow
from .casework import (
    CaseContact,
    CaseFlag,
    Contract,
    ContractCondition,
    NeedsAssessment,
    PersonMerge,
    ProgrammeOperator,
)
from .decision import Decision
from .encounter import Encounter
from .journey import EncounterJourney, ProgrammeJourney
from .organisation import Organisation, Team
from .person import Person
from .population import PopulationBaseline, PopulationBaselineRow
from .programme import Programme, ProgrammeVersion
from .reference import EthnicityCode, OffenceCategory, OutcomeCode
from .referral import Referral, ReferralEvent, ReferralParty
from .user import ROLES, User

__all__ = [
    "ROLES",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CaseContact",
    "CaseFlag",
    "ChangeRecord",
    "Contract",
    "ContractCondition",
    "Decision",
    "Encounter",
    "EncounterJourney",
    "EthnicityCode",
    "IdempotentRequest",
    "NeedsAssessment",
    "OffenceCategory",
    "Organisation",
    "OutcomeCode",
    "Person",
    "PersonMerge",
    "PopulationBaseline",
    "PopulationBaselineRow",
    "Programme",
    "ProgrammeJourney",
    "ProgrammeOperator",
    "ProgrammeVersion",
    "Referral",
    "ReferralEvent",
    "ReferralParty",
    "Team",
    "User",
    "utcnow",
]
