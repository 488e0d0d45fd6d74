"""Search a space of collaboration graphs for the best one within a budget: search spaces, designs, budgets, the
driver, and the optimizers behind one ask/tell interface (agent-reinforce, random, tpe, exhaustive, reinforce)."""

from collabgraph.optimizers.agent_reinforce import AgentReinforce, GraphDistribution
from collabgraph.optimizers.base import Measures, Optimizer, Priors, Trial, TrialStatus
from collabgraph.optimizers.budget import BudgetError, CostModel, Observation, Repair, alone, measure, repair
from collabgraph.optimizers.design import Design, Slot, Structure, count_designs, designs_from, enumerate_designs
from collabgraph.optimizers.driver import (
    BestGraph,
    Evaluation,
    SearchResult,
    SearchSettings,
    optimize,
    search_dir,
    splits,
)
from collabgraph.optimizers.exhaustive import EXHAUSTIVE_CAP, EXHAUSTIVE_MAX_NODES, Exhaustive, SpaceTooLargeError
from collabgraph.optimizers.pareto import FrontPoint, pareto_front, plot_best_so_far, plot_front, write_front_csv
from collabgraph.optimizers.random_search import RandomSearch
from collabgraph.optimizers.registry import make_optimizer
from collabgraph.optimizers.reinforce import Reinforce
from collabgraph.optimizers.space import (
    OPTIMIZER_NAMES,
    ROLES,
    SEARCH_SCHEMA,
    Budget,
    OptimizerName,
    OptimizerSettings,
    Role,
    SearchLimits,
    SearchSpace,
    TaskSplits,
    load_space,
    loads_space,
)
from collabgraph.optimizers.tpe import TPE
from collabgraph.optimizers.updates import InvalidUpdate, ProbabilityUpdate, parse_update

__all__ = [
    "EXHAUSTIVE_CAP",
    "EXHAUSTIVE_MAX_NODES",
    "OPTIMIZER_NAMES",
    "ROLES",
    "SEARCH_SCHEMA",
    "TPE",
    "AgentReinforce",
    "BestGraph",
    "Budget",
    "BudgetError",
    "CostModel",
    "Design",
    "Evaluation",
    "Exhaustive",
    "FrontPoint",
    "GraphDistribution",
    "InvalidUpdate",
    "Measures",
    "Observation",
    "Optimizer",
    "OptimizerName",
    "OptimizerSettings",
    "Priors",
    "ProbabilityUpdate",
    "RandomSearch",
    "Reinforce",
    "Repair",
    "Role",
    "SearchLimits",
    "SearchResult",
    "SearchSettings",
    "SearchSpace",
    "Slot",
    "SpaceTooLargeError",
    "Structure",
    "TaskSplits",
    "Trial",
    "TrialStatus",
    "alone",
    "count_designs",
    "designs_from",
    "enumerate_designs",
    "load_space",
    "loads_space",
    "make_optimizer",
    "measure",
    "optimize",
    "pareto_front",
    "parse_update",
    "plot_best_so_far",
    "plot_front",
    "repair",
    "search_dir",
    "splits",
    "write_front_csv",
]
