"""Training curves from a run's scalars.json."""

import json

import imageio.v2 as imageio

from maskfreevis.visualization import plot_training_curves, read_scalars


def write_scalars(log_dir, rows):
    (log_dir / 'vis_data').mkdir(parents=True)
    with open(log_dir / 'vis_data' / 'scalars.json', 'w') as handle:
        handle.write('\n'.join(json.dumps(row) for row in rows) + '\n\n')


def test_rows_are_read_and_a_missing_file_gives_none(tmp_path):
    rows = [dict(iter=1, loss=2.0, lr=0.1), dict(iter=2, loss=1.5, lr=0.1)]
    write_scalars(tmp_path, rows)
    assert read_scalars(str(tmp_path)) == rows
    assert read_scalars(str(tmp_path / 'elsewhere')) == []


def test_png_of_the_loss_terms(tmp_path):
    rows = [
        dict(
            iter=i,
            loss=3.0 / i,
            loss_proj=1.0 / i,
            loss_mask=0.0,
            lr=1e-4,
            **{'d0.loss_proj': 2.0 / i},
        )
        for i in range(1, 6)
    ]
    rows.append(dict(coco_metric=0.3, step=5))  # a validation row is skipped
    path = plot_training_curves(rows, str(tmp_path / 'curves.png'), 'toy run')
    image = imageio.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert plot_training_curves([dict(step=1, AP=0.1)], str(tmp_path / 'none.png'), 't') is None
    assert not (tmp_path / 'none.png').exists()
