"""Training criteria: matching and losses of the MaskFreeVIS track head."""

from .maskfree_criterion import MaskFreeCriterion
from .warmup import linear_warmup_factor, runner_iteration

__all__ = ['MaskFreeCriterion', 'linear_warmup_factor', 'runner_iteration']
