"""Local stand-ins for the AWS services a streaming labeling job needs, for tests and demos."""
