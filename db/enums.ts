// Plain value lists shared by the schema, validation and client components (no driver imports).
export const userRoles = ["admin", "member"] as const;
export const projectRoles = ["viewer", "member", "owner"] as const;
export const visibilities = ["private", "shared", "public"] as const;
export const diskFormats = ["raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"] as const;
export const architectures = ["x86_64", "aarch64", "ppc64le", "s390x", "riscv64"] as const;
export const dataStatuses = ["queued", "uploading", "importing", "ready", "failed"] as const;
export const releaseStatuses = [
  "draft",
  "pending_review",
  "approved",
  "rejected",
  "deprecated",
  "disabled",
  "revoked",
] as const;
export const versionSources = ["upload", "url", "build", "clone"] as const;
export const buildStatuses = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
/** Content scans, diffs and boot tests: `succeeded` means the job ran to its answer (a boot test's verdict is `result`). */
export const contentJobStatuses = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export const bootTestResults = ["passed", "failed", "timed_out", "not_bootable"] as const;
/** Whose version ordering a package follows: dpkg's, rpm's, apk's (compared with dpkg's rules), or none known. */
export const packageSchemes = ["deb", "rpm", "apk", "other"] as const;

export type UserRole = (typeof userRoles)[number];
export type ProjectRole = (typeof projectRoles)[number];
export type Visibility = (typeof visibilities)[number];
export type DiskFormat = (typeof diskFormats)[number];
export type Architecture = (typeof architectures)[number];
export type DataStatus = (typeof dataStatuses)[number];
export type ReleaseStatus = (typeof releaseStatuses)[number];
export type VersionSource = (typeof versionSources)[number];
export type BuildStatus = (typeof buildStatuses)[number];
export type ContentJobStatus = (typeof contentJobStatuses)[number];
export type BootTestResult = (typeof bootTestResults)[number];
export type PackageScheme = (typeof packageSchemes)[number];

export const cloneModes = ["linked", "full"] as const;
export type CloneMode = (typeof cloneModes)[number];

/** Formats a stored version can be converted to for download (qemu-img writes each of them). */
export const convertibleFormats = ["qcow2", "raw", "vmdk", "vhdx"] as const satisfies readonly DiskFormat[];
export type ConvertibleFormat = (typeof convertibleFormats)[number];

/** What an identity reset (virt-sysprep) may do to a clone, in the words the clone form shows. */
export const identityResetOperations = {
  "machine-id": "Clear /etc/machine-id so the guest makes a new one at first boot",
  "ssh-hostkeys": "Remove the SSH host keys so the guest makes new ones",
  "net-hwaddr": "Remove fixed network hardware (MAC) addresses from the network configuration",
  "dhcp-client-state": "Forget DHCP leases",
  logfiles: "Remove log files",
} as const;
export type IdentityResetOperation = keyof typeof identityResetOperations;
export const defaultResetOperations: IdentityResetOperation[] = [
  "machine-id",
  "ssh-hostkeys",
  "net-hwaddr",
  "dhcp-client-state",
  "logfiles",
];

/** What an API token may do: read, change what its owner may change, or also act as an admin. */
export const tokenScopes = ["read", "write", "admin"] as const;
export type TokenScope = (typeof tokenScopes)[number];

/** The events a webhook can subscribe to; `ping` is the test event, always sent when asked. */
export const webhookEventTypes = [
  "version.ready",
  "version.failed",
  "version.deleted",
  "review.pending",
  "review.approved",
  "review.rejected",
  "release.changed",
  "build.started",
  "build.succeeded",
  "build.failed",
  "build.cancelled",
  "channel.moved",
  "clone.finished",
  "ping",
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
export const webhookDeliveryStatuses = ["pending", "succeeded", "failed"] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];
export const feedKinds = ["token", "public"] as const;
export type FeedKind = (typeof feedKinds)[number];
export const platformArtifactKinds = ["lxd", "incus"] as const;
export type PlatformArtifactKind = (typeof platformArtifactKinds)[number];
export const diskBuses = ["virtio", "scsi", "sata", "ide"] as const;
export type DiskBus = (typeof diskBuses)[number];
export const firmwares = ["bios", "uefi"] as const;
export type Firmware = (typeof firmwares)[number];
export const rootPasswordPolicies = ["locked", "random", "from-context"] as const;
export type RootPasswordPolicy = (typeof rootPasswordPolicies)[number];

/** The VM an image is meant to run in, offered to platforms that want a template (OpenNebula). */
export interface VmTemplate {
  vcpu: number;
  memoryMiB: number;
  diskBus: DiskBus;
  firmware: Firmware;
  context: { network: boolean; sshKey: boolean; rootPassword: RootPasswordPolicy };
}
export const defaultVmTemplate: VmTemplate = {
  vcpu: 1,
  memoryMiB: 1024,
  diskBus: "virtio",
  firmware: "bios",
  context: { network: true, sshKey: true, rootPassword: "locked" },
};

/** A channel's name (`latest` included): lowercase, starting with a letter, at most 32 characters. */
export const channelNamePattern = /^[a-z][a-z0-9-]{0,31}$/;
