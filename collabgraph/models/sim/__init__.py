"""The ``sim/`` offline pool: a calibrated, deterministic simulator of named real models.

``SimBackend`` implements ``collabgraph.models.offline.OfflineBackend``; the gateway registers it as a litellm
custom provider and ``serve-sim`` serves it over HTTP. The models and the published scores they are calibrated
to live in ``collabgraph/models/pools/sim.yaml``.
"""

from collabgraph.models.sim.answers import same_answer, wrong_answers
from collabgraph.models.sim.backend import ORACLE_ID, SUPPORTED_ROLES, Decision, SimBackend, SimError
from collabgraph.models.sim.context import VERDICT_CORRECT, VERDICT_INCORRECT
from collabgraph.models.sim.irt import Ability, percentile
from collabgraph.models.sim.mutate import code_mutants

__all__ = [
    "ORACLE_ID",
    "SUPPORTED_ROLES",
    "VERDICT_CORRECT",
    "VERDICT_INCORRECT",
    "Ability",
    "Decision",
    "SimBackend",
    "SimError",
    "code_mutants",
    "percentile",
    "same_answer",
    "wrong_answers",
]
