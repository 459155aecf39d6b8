"""The ``streaming-labeling`` command line: send data objects to a job, watch it, stop it.

Standard library, boto3, click and rich only: it starts without aws-cdk-lib.
"""
