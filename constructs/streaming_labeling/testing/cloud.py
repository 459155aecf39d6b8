"""The local cloud: a moto server in this process, with the adapters that let a CDK stack deploy into it.

``LocalCloud`` starts ``moto.server.ThreadedMotoServer`` on a free loopback port and installs the
moto adapter (``moto_adapter``): CloudFormation custom resources get Create, Update and Delete,
Lambda functions run as local processes, EventBridge rules reach Lambda targets. moto keeps its
state per process, so one ``LocalCloud`` is active at a time in a process; starting a second one
while the first runs raises.
"""

from __future__ import annotations

import logging
import os
from types import TracebackType
from typing import Any, Dict, Optional, Type

from .aws import DEFAULT_ACCOUNT, DEFAULT_REGION, AwsEndpoints

#: Dummy credentials: moto accepts any.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"


class LocalCloud:
    """A moto server on loopback, the local SageMaker endpoint it is paired with, and the environment for both."""

    region = DEFAULT_REGION
    account = DEFAULT_ACCOUNT

    def __init__(self, *, start: bool = True) -> None:
        self._server: Any = None
        self._sagemaker_url: Optional[str] = None
        #: The emulated clock SQS retention follows (``moto_adapter`` hook 6); None: real time.
        self.clock: Any = None
        self.endpoint_url = ""
        if start:
            self.start()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalCloud:
        """Start the moto server (a free port on 127.0.0.1) and activate the moto adapter for it."""
        if self._server is not None:
            return self
        from moto.server import ThreadedMotoServer

        from . import moto_adapter

        moto_adapter.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint_url = f"http://{host}:{port}"
        try:
            moto_adapter.activate(self)
        except Exception:
            server.stop()
            self._server = None
            raise
        return self

    def stop(self) -> None:
        """Stop the server and deactivate the adapter (moto's in-process state is left as it is)."""
        if self._server is None:
            return
        from . import moto_adapter

        moto_adapter.deactivate(self)
        self._server.stop()
        self._server = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stop()

    # --- where things are --------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self.endpoint_url.rsplit(":", 1)[1])

    @property
    def sagemaker_endpoint(self) -> Optional[str]:
        return self._sagemaker_url

    def set_sagemaker_endpoint(self, url: Optional[str]) -> None:
        """Send SageMaker calls (boto3 clients, Lambda functions, subprocesses) to ``url``; None: to moto."""
        self._sagemaker_url = url

    @property
    def endpoints(self) -> AwsEndpoints:
        """The moto endpoint, region and account, for the local SageMaker service."""
        return AwsEndpoints(endpoint_url=self.endpoint_url, region=self.region, account=self.account)

    @property
    def env(self) -> Dict[str, str]:
        """The AWS settings of the local cloud, for boto3 and for subprocesses (merge into their environment)."""
        env = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if self._sagemaker_url:
            env["AWS_ENDPOINT_URL_SAGEMAKER"] = self._sagemaker_url
        return env

    def subprocess_env(self, **overrides: str) -> Dict[str, str]:
        """This process's environment without its own AWS settings (profiles, keys, endpoints), plus ``env``."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(self.env)
        env.update(overrides)
        return env

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client of the local cloud; "sagemaker" goes to the SageMaker endpoint when one is set."""
        import boto3

        endpoint = self._sagemaker_url if service == "sagemaker" and self._sagemaker_url else self.endpoint_url
        factory: Any = boto3.client
        return factory(
            service,
            region_name=self.region,
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            **kwargs,
        )
