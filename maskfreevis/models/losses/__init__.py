"""Mask-free losses: box projection, colour pairwise and Temporal KNN-patch."""

from .box_projection_loss import BoxProjectionLoss, box_projection_loss
from .frame_pairs import all_frame_pairs, build_frame_pairs, cyclic_frame_pairs
from .lab_colour import rgb_to_lab
from .pairwise_colour_loss import PairwiseColourLoss, colour_neighbour_weights, pairwise_colour_loss
from .temporal_knn_patch_loss import (
    TemporalKNNPatchLoss,
    knn_patch_selection,
    temporal_knn_patch_loss,
)

__all__ = [
    'rgb_to_lab',
    'box_projection_loss',
    'pairwise_colour_loss',
    'temporal_knn_patch_loss',
    'colour_neighbour_weights',
    'knn_patch_selection',
    'all_frame_pairs',
    'cyclic_frame_pairs',
    'build_frame_pairs',
    'BoxProjectionLoss',
    'PairwiseColourLoss',
    'TemporalKNNPatchLoss',
]
