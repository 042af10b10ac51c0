"""The data model: one module per aggregate. Importing this package registers every table."""

from divert.models import guards as guards
from divert.models.api import ApiToken, IdempotentRequest
from divert.models.audit import AuditEntry, ChangeRecord
from divert.models.base import Base, utcnow
from divert.models.casework import (
    CaseContact,
    CaseFlag,
    CaseGoal,
    Contract,
    ContractCondition,
    NeedsAssessment,
    PersonMerge,
    ProgrammeOperator,
)
from divert.models.decision import Decision
from divert.models.encounter import Encounter
from divert.models.job import Job, JobLock
from divert.models.journey import EncounterJourney, ProgrammeJourney
from divert.models.monitoring_cache import MonitoringCache, MonitoringChange
from divert.models.notify import MessageTemplate, OutboxMessage, ReminderConsent, StaffNotification
from divert.models.organisation import Organisation, Team
from divert.models.person import Person
from divert.models.population import PopulationBaseline, PopulationBaselineRow
from divert.models.programme import Programme, ProgrammeVersion
from divert.models.reference import EthnicityCode, OffenceCategory, OutcomeCode
from divert.models.referral import Referral, ReferralEvent, ReferralParty
from divert.models.reset import PasswordReset
from divert.models.sharing import (
    PersonShare,
    ReferralConsent,
    SharingAgreement,
    SharingAgreementProgramme,
)
from divert.models.simulation import Simulation
from divert.models.user import ROLES, SignInAttempt, User

__all__ = [
    "ROLES",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CaseContact",
    "CaseFlag",
    "CaseGoal",
    "ChangeRecord",
    "Contract",
    "ContractCondition",
    "Decision",
    "Encounter",
    "EncounterJourney",
    "EthnicityCode",
    "IdempotentRequest",
    "Job",
    "JobLock",
    "MessageTemplate",
    "MonitoringCache",
    "MonitoringChange",
    "NeedsAssessment",
    "OffenceCategory",
    "Organisation",
    "OutboxMessage",
    "OutcomeCode",
    "PasswordReset",
    "Person",
    "PersonMerge",
    "PersonShare",
    "PopulationBaseline",
    "PopulationBaselineRow",
    "Programme",
    "ProgrammeJourney",
    "ProgrammeOperator",
    "ProgrammeVersion",
    "Referral",
    "ReferralConsent",
    "ReferralEvent",
    "ReferralParty",
    "ReminderConsent",
    "SharingAgreement",
    "SharingAgreementProgramme",
    "SignInAttempt",
    "Simulation",
    "StaffNotification",
    "Team",
    "User",
    "utcnow",
]
