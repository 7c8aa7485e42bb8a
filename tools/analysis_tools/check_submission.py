"""Check a CodaLab submission zip (YouTube-VIS 2019 / 2021, OVIS) before uploading it.

``python tools/analysis_tools/check_submission.py RESULTS.submission_file.zip
[--benchmark youtube_vis_2019|youtube_vis_2021|ovis] [--val-json data/.../valid.json]``

Exit status 0 and a one-line summary when the layout is the servers'; else the first problem,
naming the zip and the track, and exit status 1.
"""

import argparse
import sys
from typing import Optional, Sequence

from maskfreevis.datasets.categories import VIDEO_CLASSES
from maskfreevis.evaluation import SubmissionError, check_submission_zip
from maskfreevis.evaluation.submission import video_sizes_from_json


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a YouTube-VIS / OVIS submission zip')
    parser.add_argument('zip', help='the .submission_file.zip written with format_only=True')
    parser.add_argument(
        '--benchmark', choices=sorted(VIDEO_CLASSES), help='check category ids against its classes'
    )
    parser.add_argument('--val-json', help='check video ids, frame counts and mask sizes')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        tracks = check_submission_zip(args.zip, benchmark=args.benchmark, val_json=args.val_json)
    except SubmissionError as error:
        print(f'not a valid submission: {error}', file=sys.stderr)
        return 1
    videos = {track['video_id'] for track in tracks}
    print(f'{args.zip}: {len(tracks)} tracks over {len(videos)} videos, layout ok')
    if not tracks:
        print(f'warning: {args.zip} holds no track at all; every video would score 0')
    elif args.val_json:
        expected = video_sizes_from_json(args.val_json)
        missing = sorted(set(expected) - videos)
        if missing:
            print(
                f'warning: {len(missing)} of the {len(expected)} videos of {args.val_json} have '
                f'no track (e.g. video {missing[0]}); they score as missed'
            )
    return 0


if __name__ == '__main__':
    sys.exit(main())
