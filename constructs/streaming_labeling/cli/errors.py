"""The one place where errors become what a person reads, and exit codes.

Exit codes: 0 done, 1 a runtime error (one line on stderr), 2 a usage error (click's), 130
interrupted (Ctrl-C). Every exception a command can raise from AWS, the network, the
file system or the input is mapped here by :class:`Group`, so no command prints a traceback.
"""

from __future__ import annotations

import errno
from typing import IO, Any, Optional

import click
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from ..handler import shared

INTERRUPTED = 130

NO_CREDENTIALS = ("No AWS credentials found: run `aws configure`, set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                  "AWS_SECRET_ACCESS_KEY, or pass --profile.")

# Codes that no retry can change: the caller is not allowed, or the thing is not there.
FATAL_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "AuthorizationError", "AuthorizationErrorException",
    "NotFound", "NotFoundException", "NoSuchBucket", "ResourceNotFound", "ResourceNotFoundException",
    "InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException",
    "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidSecurity", "MissingAuthenticationToken",
    "KMSAccessDenied", "KMSAccessDeniedException", "KMSDisabled", "KMSDisabledException", "KMSNotFound",
    "KMSNotFoundException", "KMSInvalidState", "KMSInvalidStateException", "KMSOptInRequired",
    "403", "404",
})

# Faults on the service's side or of the network, worth another try: the handler's throttling and
# server-fault codes, KMS's throttling, and the bare HTTP statuses S3 gives for them.
TRANSIENT_CODES = shared.THROTTLING_CODES | shared.SERVER_FAULT_CODES | frozenset({
    "KMSThrottling", "KMSThrottlingException", "500", "502", "503", "504",
})
TRANSIENT_ERRORS = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)


class CliError(click.ClickException):
    """A runtime error with the one sentence a person needs (exit code 1)."""

    exit_code = 1


class Interrupted(click.ClickException):
    """Ctrl-C: the message, without click's "Error: " prefix, and exit code 130."""

    exit_code = INTERRUPTED

    def show(self, file: Optional[IO[Any]] = None) -> None:
        click.echo(self.format_message(), err=True)


def code_of(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def is_fatal(error: BaseException) -> bool:
    """Never retried: missing credentials, AccessDenied, NotFound and the like."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError, NoRegionError, InvalidRegionError,
                          ProfileNotFound)):
        return True
    return code_of(error) in FATAL_CODES


def is_transient(error: BaseException) -> bool:
    """Worth another try: throttling, a fault on the service's side, a dropped connection."""
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    return code_of(error) in TRANSIENT_CODES


def explain(error: BaseException) -> str:
    """One line for any error a command can meet."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return NO_CREDENTIALS
    if isinstance(error, NoRegionError):
        return "No AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)."
    if isinstance(error, InvalidRegionError):
        return f"Not a valid AWS region: {error.kwargs.get('region_name')!r} (e.g. us-east-1)."
    if isinstance(error, EndpointConnectionError):
        return (f"Could not reach {error.kwargs.get('endpoint_url')}: check the network, --region and "
                "AWS_ENDPOINT_URL.")
    if isinstance(error, (ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)):
        return f"The connection to {error.kwargs.get('endpoint_url')} failed: {error}"
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        message = str(info.get("Message", "")).strip()
        return f"{error.operation_name}: {info.get('Code', 'Error')}" + (f": {message}" if message else "")
    if isinstance(error, UnicodeDecodeError):
        return f"Not valid UTF-8: {error}"
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or error}"
    return " ".join(str(error).split()) or type(error).__name__


class Group(click.Group):
    """A click group whose commands' errors are mapped to one line and an exit code, here only."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt as error:
            raise Interrupted("Interrupted.") from error
        except OSError as error:
            if error.errno == errno.EPIPE:
                raise
            raise CliError(explain(error)) from error
        except (ClientError, BotoCoreError, UnicodeDecodeError) as error:
            raise CliError(explain(error)) from error
