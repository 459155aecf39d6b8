"""Strict validation of a request against botocore's SageMaker service model.

The checks live in the library (``streaming_labeling.testing.model``), where the local Ground
Truth validates every request with them; the tests import them from here as before.
"""

from __future__ import annotations

from streaming_labeling.testing.model import (  # noqa: F401 - re-exported for the tests
    input_shape,
    out_of_bounds,
    request_violations,
    sagemaker_model,
    violations,
)
