"""Label placement, checked geometrically: inside the frame, at its instance, never overlapping."""

import numpy as np

from maskfreevis.visualization import colour_for_id, draw_instances
from maskfreevis.visualization.labels import draw_labels, label_size, place_labels


def intersection_area(a: np.ndarray, b: np.ndarray) -> int:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0) * max(height, 0)


def touches(label: np.ndarray, box: np.ndarray) -> bool:
    """The label box overlaps or borders the instance box."""
    grown = np.asarray(box) + [-1, -1, 1, 1]
    return intersection_area(label, grown) > 0


def check_layout(labels: np.ndarray, boxes: np.ndarray, frame_hw) -> None:
    height, width = frame_hw
    assert (labels[:, :2] >= 0).all() and (labels[:, 2] <= width).all()
    assert (labels[:, 3] <= height).all()
    for k in range(len(labels)):
        assert touches(labels[k], boxes[k]), f'label {k} {labels[k]} is away from {boxes[k]}'
        for j in range(k):
            assert intersection_area(labels[k], labels[j]) == 0, f'labels {j} and {k} overlap'


def test_two_instances_at_one_place_get_stacked_labels():
    boxes = np.array([[100, 80, 200, 160], [100, 80, 200, 160]])
    sizes = np.array([[70, 16], [90, 16]])
    labels = place_labels(boxes, sizes, (360, 640))
    np.testing.assert_array_equal(labels[0], [100, 64, 170, 80])  # above the top-left corner
    check_layout(labels, boxes, (360, 640))


def test_boxes_at_the_frame_edges_keep_their_labels_inside():
    boxes = np.array([[0, 0, 50, 40], [600, 330, 640, 360], [0, 0, 40, 30]])
    sizes = np.array([[80, 16], [80, 16], [80, 16]])
    labels = place_labels(boxes, sizes, (360, 640))
    check_layout(labels, boxes, (360, 640))


def test_random_crowded_layouts_never_overlap():
    rng = np.random.default_rng(0)
    for _ in range(200):
        count = int(rng.integers(2, 9))
        corners = rng.integers(0, [560, 300], (count, 2))
        extents = rng.integers(8, [200, 120], (count, 2))
        boxes = np.concatenate([corners, np.minimum(corners + extents, [640, 360])], 1)
        boxes[1] = boxes[0]  # the case that used to draw one label over another
        sizes = np.stack([rng.integers(40, 120, count), np.full(count, 16)], 1)
        check_layout(place_labels(boxes, sizes, (360, 640)), boxes, (360, 640))


def test_draw_labels_paints_each_label_box_in_its_colour():
    canvas = np.zeros((120, 200, 3), np.uint8)
    boxes = np.array([[50, 40, 120, 100], [55, 45, 110, 95]])
    colours = np.array([[255, 200, 0], [0, 60, 200]], np.uint8)
    placed = draw_labels(canvas, ['#0 car 0.91', '#1 person 0.80'], boxes, colours)
    check_layout(placed, boxes, canvas.shape[:2])
    for (x0, y0, x1, y1), colour in zip(placed, colours):
        region = canvas[y0:y1, x0:x1].reshape(-1, 3)
        assert (region == colour).all(1).mean() > 0.5  # mostly background, the rest is text
        assert (region != colour).any(1).any()  # and some text
    assert tuple(placed[0, 2:] - placed[0, :2]) == label_size('#0 car 0.91', 0.4, 1)


def test_label_goes_to_the_largest_part_of_an_instance_in_pieces():
    frame = np.zeros((120, 200, 3), np.uint8)
    mask = np.zeros((1, 120, 200), bool)
    mask[0, 70:110, 120:190] = True  # the object
    mask[0, 2:4, 2:4] = True  # a speck far away
    out = draw_instances(frame, mask, [3], alpha=0.0)
    label_colour = (out == colour_for_id(3)).all(-1)
    assert label_colour[50:70, 110:200].sum() > 150  # the label box, just above the object
    assert label_colour[0:20, 0:60].sum() < 20  # only the speck's outline
