#!/usr/bin/env python3
"""Example app: a streaming image-classification job and a two-stage pipeline, as a user would compose them."""

import aws_cdk as cdk

from stacks.example_stack import ExampleLabelingStack

app = cdk.App()
ExampleLabelingStack(app, "StreamingLabelingExample")
app.synth()
