"""The pytest plugin the package registers (entry point ``pytest11``): the ``local_ground_truth`` fixture.

pytest loads registered plugins in every session of an environment that has the package, so this
module imports nothing heavy: the local cloud (moto, python-liquid) is imported only when a test
asks for the fixture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from . import LocalGroundTruth


@pytest.fixture
def local_ground_truth() -> Iterator[LocalGroundTruth]:
    """A started local Ground Truth (a moto server and the local labeling-job service), stopped afterwards."""
    from . import LocalGroundTruth

    with LocalGroundTruth() as local:
        yield local
