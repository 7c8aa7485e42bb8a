"""Converters from common box-annotation formats to the box-only YouTube-VIS json.

One module per source format (MOTChallenge / CVAT MOT, CVAT for video XML, Scalabel / BDD100K),
all producing :class:`VideoBoxTracks` that :func:`build_box_only_json` lays out, plus
:func:`split_by_video` to cut a local train / val split. The command lines are in
``tools/dataset_converters/``.
"""

from .box_only_json import (
    BoxTrack,
    VideoBoxTracks,
    build_box_only_json,
    check_output_path,
    group_rows_into_tracks,
    summarise,
    write_json,
)
from .cvat_video import convert_cvat_video, read_cvat_video_xml
from .mot import MOT_CHALLENGE_CLASSES, convert_mot, find_mot_sequences
from .scalabel import convert_scalabel
from .video_split import categories_missing_from, split_by_video

__all__ = [
    'BoxTrack',
    'VideoBoxTracks',
    'build_box_only_json',
    'check_output_path',
    'group_rows_into_tracks',
    'summarise',
    'write_json',
    'convert_cvat_video',
    'read_cvat_video_xml',
    'MOT_CHALLENGE_CLASSES',
    'convert_mot',
    'find_mot_sequences',
    'convert_scalabel',
    'categories_missing_from',
    'split_by_video',
]
