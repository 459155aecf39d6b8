"""Deploy a CDK stack into the local cloud through moto's CloudFormation, as ``cdk deploy`` would.

``Deployer.deploy(stack)`` synthesizes the stack's app, publishes the stack's file assets the way
cdk-assets does (directories zipped, files as they are, into the bootstrap bucket named in the
stack's asset manifest ``<artifact id>.assets.json``), creates the bootstrap version parameter
``/cdk-bootstrap/<qualifier>/version`` the template's ``BootstrapVersion`` parameter reads, and
calls CreateStack under the stack's own name with the synthesized template, then waits. The
template is the one ``cdk deploy`` would send: the stack's own synthesizer (normally
``DefaultStackSynthesizer``) is kept, so asset locations, the bootstrap-version rule and the
parameters are those of a real deployment.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from .cloud import LocalCloud

#: The bootstrap stack version this local "bootstrap" claims (the CDK CLI 2.1148 template's).
BOOTSTRAP_VERSION = "30"
DEFAULT_QUALIFIER = "hnb659fds"
#: Every capability a CDK app may need; moto checks none, real CloudFormation wants them named.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
#: A Custom::* resource whose function is this slow does not belong in a local deploy.
DEFAULT_TIMEOUT_SECONDS = 600.0


class DeployError(RuntimeError):
    """A deployment or destruction that failed, with CloudFormation's reason."""

    def __init__(self, message: str, stack_name: str, status: Optional[str] = None,
                 failures: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.stack_name = stack_name
        self.status = status
        self.failures = failures or {}


@dataclass
class DeployedStack:
    """A stack deployed into the local cloud."""

    stack_name: str
    stack_id: str
    outputs: Dict[str, str]
    template: Dict[str, Any]
    seconds: float
    _cloud: LocalCloud = field(repr=False)
    _stack: Any = field(repr=False, default=None)

    def logical_id(self, construct: Any) -> str:
        """The logical id of a CfnResource, or of a construct's default child."""
        import aws_cdk as cdk

        resource = construct
        while resource is not None and not isinstance(resource, cdk.CfnElement):
            resource = resource.node.default_child  # an L2's, then its L1's
        if resource is None:
            raise ValueError(f"{construct.node.path} has no CloudFormation resource (no default child); "
                             "pass the CfnResource or the construct that owns it")
        stack = cdk.Stack.of(resource)
        return str(stack.resolve(resource.logical_id))

    def describe(self, construct: Any) -> Dict[str, Any]:
        """DescribeStackResource of a construct's resource."""
        client = self._cloud.client("cloudformation")
        detail: Dict[str, Any] = client.describe_stack_resource(
            StackName=self.stack_id, LogicalResourceId=self.logical_id(construct)
        )["StackResourceDetail"]
        return detail

    def physical_id(self, construct: Any) -> str:
        """The physical id of a construct's resource (a custom resource's: the one its handler answered)."""
        return str(self.describe(construct).get("PhysicalResourceId", ""))

    def resource_status(self, construct: Any) -> str:
        return str(self.describe(construct).get("ResourceStatus", ""))

    def status(self) -> str:
        client = self._cloud.client("cloudformation")
        return str(client.describe_stacks(StackName=self.stack_id)["Stacks"][0]["StackStatus"])

    def events(self) -> List[Dict[str, Any]]:
        """The stack's events, oldest first."""
        client = self._cloud.client("cloudformation")
        events: List[Dict[str, Any]] = client.describe_stack_events(StackName=self.stack_id)["StackEvents"]
        return list(reversed(events))


class Deployer:
    """Deploys CDK stacks into a ``LocalCloud`` (its moto server, with the moto adapter active)."""

    def __init__(self, cloud: LocalCloud, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.cloud = cloud
        self.timeout = timeout

    # --- synthesis and assets ------------------------------------------------------------------

    def synthesize(self, stack: Any) -> Any:
        """The stack's cloud-formation artifact (synthesizing its app if that has not happened yet)."""
        import aws_cdk as cdk

        stage = cdk.Stage.of(stack)
        if stage is None:
            raise ValueError(f"stack {stack.node.path} is in no app or stage")
        assembly = stage.synth()
        return assembly.get_stack_artifact(stack.artifact_id)

    def _substitute(self, text: str) -> str:
        return (text.replace("${AWS::AccountId}", self.cloud.account).replace("${AWS::Region}", self.cloud.region)
                .replace("${AWS::Partition}", "aws"))

    def publish_assets(self, artifact: Any) -> List[str]:
        """Upload the stack's file assets as cdk-assets would; the s3:// URIs written."""
        manifest_path = Path(artifact.assembly.directory) / f"{artifact.id}.assets.json"
        if not manifest_path.is_file():
            return []
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("dockerImages"):
            names = ", ".join(manifest["dockerImages"])
            raise DeployError(f"not emulated: Docker image assets ({names}); the local cloud has no image registry",
                              str(artifact.stack_name))
        s3 = self.cloud.client("s3")
        written = []
        for asset in manifest.get("files", {}).values():
            source = Path(manifest_path.parent) / asset["source"]["path"]
            packaging = asset["source"].get("packaging", "file")
            body = _zip_directory(source) if packaging == "zip" and source.is_dir() else source.read_bytes()
            for destination in asset["destinations"].values():
                bucket = self._substitute(destination["bucketName"])
                key = self._substitute(destination["objectKey"])
                self._ensure_bucket(s3, bucket)
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                written.append(f"s3://{bucket}/{key}")
        return written

    def _ensure_bucket(self, s3: Any, bucket: str) -> None:
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception:  # noqa: BLE001 - any failure to see it: create it as the bootstrap stack would
            s3.create_bucket(Bucket=bucket)

    def bootstrap(self, qualifier: str = DEFAULT_QUALIFIER) -> None:
        """What ``cdk bootstrap`` leaves that a template reads: the version parameter."""
        ssm = self.cloud.client("ssm")
        ssm.put_parameter(Name=f"/cdk-bootstrap/{qualifier}/version", Value=BOOTSTRAP_VERSION, Type="String",
                          Overwrite=True)

    def _qualifier(self, artifact: Any) -> str:
        parameter = artifact.bootstrap_stack_version_ssm_parameter or f"/cdk-bootstrap/{DEFAULT_QUALIFIER}/version"
        parts = str(parameter).strip("/").split("/")
        return parts[1] if len(parts) == 3 else DEFAULT_QUALIFIER

    # --- deploy, update, destroy ----------------------------------------------------------------

    def deploy(self, stack: Any) -> DeployedStack:
        """Synthesize, publish and create the stack; raises ``DeployError`` with CloudFormation's reason."""
        started = time.monotonic()
        artifact = self.synthesize(stack)
        self.bootstrap(self._qualifier(artifact))
        self.publish_assets(artifact)
        template = artifact.template
        client = self.cloud.client("cloudformation")
        tags = [{"Key": key, "Value": value} for key, value in (artifact.tags or {}).items()]
        stack_id = client.create_stack(
            StackName=artifact.stack_name, TemplateBody=json.dumps(template), Capabilities=CAPABILITIES,
            Tags=tags, Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                   for k, v in (artifact.parameters or {}).items()],
        )["StackId"]
        status = self._wait(stack_id, str(artifact.stack_name), "CREATE_IN_PROGRESS")
        if status != "CREATE_COMPLETE":
            raise self._failure(stack_id, str(artifact.stack_name), status, "deploy")
        return self._deployed(stack_id, str(artifact.stack_name), template, started, stack)

    def update(self, stack: Any) -> DeployedStack:
        """UpdateStack with the stack's new template (synthesize a new app for the new version)."""
        started = time.monotonic()
        artifact = self.synthesize(stack)
        self.publish_assets(artifact)
        template = artifact.template
        client = self.cloud.client("cloudformation")
        stack_id = client.describe_stacks(StackName=artifact.stack_name)["Stacks"][0]["StackId"]
        client.update_stack(StackName=stack_id, TemplateBody=json.dumps(template), Capabilities=CAPABILITIES)
        status = self._wait(stack_id, str(artifact.stack_name), "UPDATE_IN_PROGRESS",
                            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
                            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        if status != "UPDATE_COMPLETE":
            raise self._failure(stack_id, str(artifact.stack_name), status, "update")
        return self._deployed(stack_id, str(artifact.stack_name), template, started, stack)

    def destroy(self, deployed: DeployedStack) -> None:
        """DeleteStack and wait: custom resources get Delete first (so the handler stops the jobs)."""
        client = self.cloud.client("cloudformation")
        client.delete_stack(StackName=deployed.stack_id)
        status = self._wait(deployed.stack_id, deployed.stack_name, "DELETE_IN_PROGRESS")
        if status != "DELETE_COMPLETE":
            raise self._failure(deployed.stack_id, deployed.stack_name, status, "destroy")

    def _deployed(self, stack_id: str, name: str, template: Dict[str, Any], started: float,
                  stack: Any) -> DeployedStack:
        client = self.cloud.client("cloudformation")
        described = client.describe_stacks(StackName=stack_id)["Stacks"][0]
        outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])}
        return DeployedStack(name, stack_id, outputs, template, time.monotonic() - started, self.cloud, stack)

    def _wait(self, stack_id: str, name: str, *in_progress: str) -> str:
        client = self.cloud.client("cloudformation")
        end = time.monotonic() + self.timeout
        pending = set(in_progress) | {"CREATE_PENDING", "ROLLBACK_IN_PROGRESS"}
        while True:
            status = str(client.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])
            if status not in pending:
                return status
            if time.monotonic() > end:
                raise DeployError(f"{name}: still {status} after {self.timeout:.0f} s", name, status)
            time.sleep(0.1)

    def _failure(self, stack_id: str, name: str, status: str, what: str) -> DeployError:
        client = self.cloud.client("cloudformation")
        events = client.describe_stack_events(StackName=stack_id)["StackEvents"]
        failures: Dict[str, str] = {}
        for event in reversed(events):  # oldest first: the first failure is the cause
            if event.get("ResourceStatus", "").endswith("_FAILED") and event["LogicalResourceId"] != name:
                failures.setdefault(event["LogicalResourceId"], event.get("ResourceStatusReason") or "")
        if failures:
            first = next(iter(failures))
            reason = f"{first}: {failures[first]}"
        else:
            reason = next((e.get("ResourceStatusReason") for e in events if e.get("ResourceStatusReason")), "") or ""
        return DeployError(f"{what} of {name} failed ({status}): {reason}", name, status, failures)


def _zip_directory(directory: Path) -> bytes:
    """A zip of the directory's contents, entries in sorted order with fixed times (as cdk-assets does)."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                info = zipfile.ZipInfo(str(path.relative_to(directory)), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0xFFFF) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
