"""The pure rules engine: programme definitions in, decisions with reasons out. No Flask, no database.

The database and pathway layers should import from here rather than from the modules, which may be rearranged.
"""

from divert.rules.dates import BANK_HOLIDAYS, add_months, add_working_days, age_on, whole_months_between
from divert.rules.decision import Decision, Reason, decide
from divert.rules.definition import (
    ROLES,
    STAGES,
    DefinitionError,
    NoVersionInForce,
    ProgrammeDefinition,
    State,
    Transition,
    content_hash,
    definition_to_dict,
    select_version,
)
from divert.rules.engagement import (
    CaseFacts,
    SessionRecord,
    Signal,
    contract_end,
    deadline_due,
    non_engagement_signals,
)
from divert.rules.facts import EncounterFacts, PriorEncounter
from divert.rules.loader import load_definition, load_directory, parse_definition
from divert.rules.pathway import (
    ReasonRequired,
    RoleNotAllowed,
    TransitionError,
    TransitionNotAllowed,
    allowed_transitions,
    check_transition,
)
from divert.rules.schema import definition_from_dict

__all__ = [
    "BANK_HOLIDAYS",
    "ROLES",
    "STAGES",
    "CaseFacts",
    "Decision",
    "DefinitionError",
    "EncounterFacts",
    "NoVersionInForce",
    "PriorEncounter",
    "ProgrammeDefinition",
    "Reason",
    "ReasonRequired",
    "RoleNotAllowed",
    "SessionRecord",
    "Signal",
    "State",
    "Transition",
    "TransitionError",
    "TransitionNotAllowed",
    "add_months",
    "add_working_days",
    "age_on",
    "allowed_transitions",
    "check_transition",
    "content_hash",
    "contract_end",
    "deadline_due",
    "decide",
    "definition_from_dict",
    "definition_to_dict",
    "load_definition",
    "load_directory",
    "non_engagement_signals",
    "parse_definition",
    "select_version",
    "whole_months_between",
]
