"""The tools' tiny generated dataset (box-only training json) for the training-step tests."""

from tests.tools.conftest import tiny_dataset  # noqa: F401  (a fixture)
