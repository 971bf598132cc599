"""Kubernetes mode: one pod per student and workspace, built by KubeSpawner, with the same track
rule, images, limits, start line and refusals as Docker mode (`ContainerWorkspaceMixin`).

Its own module so that only a hub on Kubernetes needs `jupyterhub-kubespawner` (Zero to
JupyterHub's hub image has it). The pod runs as the images' non-root user with no
capabilities, no privilege escalation and no service-account token (a notebook can ask the
Kubernetes API nothing); the student's home is a PersistentVolumeClaim of their own, kept when
the pod stops. Which pods may talk to which is the cluster's NetworkPolicy (Zero to JupyterHub's
`singleuser.networkPolicy`, on by default).
"""

from kubespawner import KubeSpawner
from traitlets import default

from hub.spawners import ContainerWorkspaceMixin

HOME = "/home/jovyan"
LABEL_PREFIX = "apranova.org"


class KubeTrackSpawner(ContainerWorkspaceMixin, KubeSpawner):
    """KubeSpawner, told by lms-api's rule which image and limits each start gets."""

    @default("uid")
    def _default_uid(self) -> int:
        return 1000  # the images' jovyan

    @default("gid")
    def _default_gid(self) -> int:
        return 100

    @default("fs_gid")
    def _default_fs_gid(self) -> int:
        return 100  # the home volume is writable by the workspace user

    @default("container_security_context")
    def _default_container_security_context(self) -> dict:
        return {
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }

    @default("allow_privilege_escalation")
    def _default_allow_privilege_escalation(self) -> bool:
        return False

    @default("automount_service_account_token")
    def _default_automount(self) -> bool:
        return False

    @default("image_pull_policy")
    def _default_pull_policy(self) -> str:
        return "IfNotPresent"

    @default("storage_pvc_ensure")
    def _default_storage_pvc_ensure(self) -> bool:
        return True

    @default("storage_capacity")
    def _default_storage_capacity(self) -> str:
        return "10Gi"

    @default("pvc_name_template")
    def _default_pvc_name_template(self) -> str:
        return "apranova-home-{username}"  # one home for all of a student's servers, as in Docker

    @default("volumes")
    def _default_volumes(self) -> list[dict]:
        return [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]

    @default("volume_mounts")
    def _default_volume_mounts(self) -> list[dict]:
        return [{"name": "home", "mountPath": HOME}]

    async def start(self):
        self.prepare_pod(await self.checked_kind())
        return await super().start()

    def prepare_pod(self, kind: str) -> None:
        """The image, limits and labels of this start (`kind` checked against the rule)."""
        self.image = self.workspace_images[kind]
        limits = self.workspace_limits(kind)
        self.cpu_limit = limits.cpu
        self.mem_limit = limits.memory
        self.extra_labels = {
            **self.extra_labels,
            f"{LABEL_PREFIX}/kind": kind,
            f"{LABEL_PREFIX}/track": self.workspace_track or "none",
        }
