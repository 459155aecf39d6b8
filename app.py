#!/usr/bin/env python3
"""Example app: one streaming image-classification job, as a user would compose it."""

import aws_cdk as cdk

from stacks.example_stack import ExampleLabelingStack

app = cdk.App()
ExampleLabelingStack(app, "StreamingLabelingExample")
app.synth()
