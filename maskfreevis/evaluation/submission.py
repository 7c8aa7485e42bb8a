"""Checks of a CodaLab submission zip for YouTube-VIS 2019 / 2021 and OVIS before uploading it.

The three servers take the same layout: a zip whose root holds ``results.json``, a list of
predicted tracks ``{"video_id": int, "category_id": int (1-based, the json's category ids),
"score": float, "segmentations": [RLE or null, one per frame of the video]}``, each RLE a
compressed ``{"size": [height, width], "counts": str}``.
"""

import json
import math
import zipfile
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..datasets.annotation_checks import compressed_rle_totals, load_annotation_json
from ..datasets.categories import VIDEO_CLASSES

SUBMISSION_MEMBER = 'results.json'
TRACK_KEYS = ('video_id', 'category_id', 'score', 'segmentations')


class SubmissionError(ValueError):
    """A submission zip the evaluation server would reject; the message names the zip and entry."""


def video_sizes_from_json(val_json: str) -> Dict[int, Tuple[int, int, int]]:
    """``{video_id: (num_frames, height, width)}`` of a YouTube-VIS / OVIS json's ``videos``."""
    videos = load_annotation_json(val_json).get('videos', [])
    return {
        video['id']: (len(video['file_names']), video['height'], video['width']) for video in videos
    }


def _check_rle(rle, where: str, size: Optional[Tuple[int, int]]) -> None:
    """The layout of one RLE (its counts are checked in bulk by :func:`_check_rle_counts`)."""
    if rle is None:
        return
    if not isinstance(rle, dict) or set(rle) != {'size', 'counts'}:
        raise SubmissionError(f'{where}: a segmentation must be null or {{"size", "counts"}}')
    if not isinstance(rle['counts'], str):
        raise SubmissionError(f'{where}: RLE counts must be a compressed string')
    rle_size = rle['size']
    if not (
        isinstance(rle_size, list)
        and len(rle_size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in rle_size)
    ):
        raise SubmissionError(
            f'{where}: RLE size must be [height, width], two positive integers, got {rle_size!r}'
        )
    if size is not None and list(rle_size) != list(size):
        raise SubmissionError(f'{where}: RLE size {rle_size} is not the video size {list(size)}')


def _check_rle_counts(rles: List[Tuple[str, dict]]) -> None:
    """Every RLE's counts decode and cover its ``size`` exactly (the servers' pycocotools hangs
    or reads past the mask on counts that do not); ``rles`` holds ``(where, rle)`` pairs."""
    totals, well_formed = compressed_rle_totals([rle['counts'] for _, rle in rles])
    areas = np.array([rle['size'][0] * rle['size'][1] for _, rle in rles], dtype=np.int64)
    bad = np.flatnonzero(~well_formed | (totals != areas))
    if len(bad) == 0:
        return
    where, rle = rles[bad[0]]
    height, width = rle['size']
    problem = (
        'are not a valid compressed string (a character outside the alphabet, cut short, or a '
        'negative count)'
        if not well_formed[bad[0]]
        else f'sum to {int(totals[bad[0]])}, not height x width = {height} x {width} = '
        f'{height * width}'
    )
    raise SubmissionError(
        f'{where}: RLE counts {problem}: the mask is cut short or corrupt'
        + (f' ({len(bad)} such masks in all)' if len(bad) > 1 else '')
    )


def check_submission_zip(
    zip_path: str, benchmark: Optional[str] = None, val_json: Optional[str] = None
) -> List[dict]:
    """Read a submission zip back and check it has the servers' layout.

    Args:
        zip_path: the ``.submission_file.zip`` written with ``format_only=True``.
        benchmark: ``'youtube_vis_2019'``, ``'youtube_vis_2021'`` or ``'ovis'`` to check the
            category ids against that dataset's classes; ``None`` skips that check.
        val_json: the split's json, to check video ids, frame counts and RLE sizes.

    Returns:
        the predicted tracks (the parsed ``results.json``).

    Raises:
        SubmissionError: naming the zip and the first offending track.
    """
    num_classes = len(VIDEO_CLASSES[benchmark]) if benchmark is not None else None
    videos = video_sizes_from_json(val_json) if val_json is not None else None
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = archive.namelist()
            if members != [SUBMISSION_MEMBER]:
                raise SubmissionError(
                    f'{zip_path}: the zip must hold exactly {SUBMISSION_MEMBER!r} at its root, '
                    f'found {members}'
                )
            tracks = json.loads(archive.read(SUBMISSION_MEMBER).decode('utf-8'))
    except OSError as error:
        raise SubmissionError(f'{zip_path}: cannot be read ({error.strerror or error})') from error
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SubmissionError(f'{zip_path}: not a readable zip of json ({error})') from error
    if not isinstance(tracks, list):
        raise SubmissionError(f'{zip_path}: {SUBMISSION_MEMBER} must be a list of tracks')
    rles: List[Tuple[str, dict]] = []
    for index, track in enumerate(tracks):
        where = f'{zip_path}: track {index}'
        if not isinstance(track, dict) or sorted(track) != sorted(TRACK_KEYS):
            keys = sorted(track) if isinstance(track, dict) else type(track).__name__
            raise SubmissionError(f'{where} must have exactly the keys {TRACK_KEYS}, has {keys}')
        where = f'{where} (video {track["video_id"]})'
        if not isinstance(track['video_id'], int) or not isinstance(track['category_id'], int):
            raise SubmissionError(f'{where}: video_id and category_id must be integers')
        if num_classes is not None and not 1 <= track['category_id'] <= num_classes:
            raise SubmissionError(
                f'{where}: category_id {track["category_id"]} is outside 1..{num_classes} '
                f'({benchmark})'
            )
        score = track['score']
        if not isinstance(score, (int, float)) or not math.isfinite(score):
            raise SubmissionError(f'{where}: score must be a finite number, got {score!r}')
        if not isinstance(track['segmentations'], list):
            raise SubmissionError(f'{where}: segmentations must be a list (one entry per frame)')
        size = None
        if videos is not None:
            if track['video_id'] not in videos:
                raise SubmissionError(f'{where}: video id not in {val_json}')
            num_frames, height, width = videos[track['video_id']]
            if len(track['segmentations']) != num_frames:
                raise SubmissionError(
                    f'{where}: {len(track["segmentations"])} segmentations for {num_frames} frames'
                )
            size = (height, width)
        for frame, rle in enumerate(track['segmentations']):
            _check_rle(rle, f'{where} frame {frame}', size)
            if rle is not None:
                rles.append((f'{where} frame {frame}', rle))
    _check_rle_counts(rles)
    return tracks
