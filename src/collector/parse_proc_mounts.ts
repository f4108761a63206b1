/**
 * Parser of Linux `/proc/self/mounts` and the choice of which mounts are real disks.
 *
 * @module
 */

/** One line of `/proc/self/mounts`. */
export interface MountEntry {
  device: string;
  mount: string;
  fsType: string;
}

/** File system types that hold no user data (kernel interfaces, RAM, containers' plumbing). */
export const PSEUDO_FS_TYPES: ReadonlySet<string> = new Set([
  "autofs",
  "binfmt_misc",
  "bpf",
  "cgroup",
  "cgroup2",
  "configfs",
  "debugfs",
  "devfs",
  "devpts",
  "devtmpfs",
  "efivarfs",
  "fusectl",
  "fuse.gvfsd-fuse",
  "fuse.lxcfs",
  "fuse.portal",
  "hugetlbfs",
  "mqueue",
  "nsfs",
  "proc",
  "pstore",
  "ramfs",
  "rpc_pipefs",
  "securityfs",
  "selinuxfs",
  "squashfs",
  "sysfs",
  "tmpfs",
  "tracefs",
]);

function unescapeOctal(value: string): string {
  return value.replace(
    /\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
  );
}

/** Parses `/proc/self/mounts` text (octal escapes such as `\040` decoded). */
export function parseProcMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const [device, mount, fsType] = line.trim().split(/\s+/);
    if (!device || !mount || !fsType) continue;
    entries.push({ device: unescapeOctal(device), mount: unescapeOctal(mount), fsType });
  }
  return entries;
}

/**
 * The mounts worth reporting as disks: no pseudo file systems, no overlay except `/`, and
 * each device once (bind mounts of the same device, as containers have for `/etc/hosts`,
 * keep only the shortest mount point). A later mount on the same point hides an earlier one.
 */
export function realMounts(entries: MountEntry[]): MountEntry[] {
  const byMount = new Map<string, MountEntry>();
  for (const entry of entries) {
    if (PSEUDO_FS_TYPES.has(entry.fsType)) {
      byMount.delete(entry.mount);
      continue;
    }
    if (entry.fsType === "overlay" && entry.mount !== "/") continue;
    byMount.delete(entry.mount);
    byMount.set(entry.mount, entry);
  }
  const byDevice = new Map<string, MountEntry>();
  for (const entry of byMount.values()) {
    const seen = byDevice.get(entry.device);
    if (!seen || entry.mount.length < seen.mount.length) byDevice.set(entry.device, entry);
  }
  return [...byDevice.values()].sort((a, b) => a.mount.localeCompare(b.mount));
}
