"""Every change of engine state is a command run by ``execute`` in one transaction.

A command loads what it needs, checks permissions and state, acts, runs engine steps, saves
the workflow and its projections and writes an audit row. Camunda's engine is the model:
small command classes with one ``execute(context)``, and one executor that commits.
"""

from .batches import CancelBatch, StartBatchMigration
from .definitions import Deploy, GrantStart
from .events import CorrelateMessage, FireTimer, RetryIncident
from .executor import CommandContext, check_variables, execute
from .instances import (
    AddComment,
    Resume,
    SetVariables,
    StartInstance,
    Suspend,
    Terminate,
    start_instance,
)
from .modification import MigrateInstance, MoveToken
from .org import MoveOrgUnit, SaveOrgUnit
from .tasks import Assign, Claim, Complete, Unclaim

__all__ = [
    "AddComment",
    "Assign",
    "CancelBatch",
    "Claim",
    "CommandContext",
    "Complete",
    "CorrelateMessage",
    "Deploy",
    "FireTimer",
    "GrantStart",
    "MigrateInstance",
    "MoveOrgUnit",
    "MoveToken",
    "Resume",
    "RetryIncident",
    "SaveOrgUnit",
    "SetVariables",
    "StartBatchMigration",
    "StartInstance",
    "Suspend",
    "Terminate",
    "Unclaim",
    "check_variables",
    "execute",
    "start_instance",
]
