/**
 * An sshd of the bench's own on 127.0.0.1 for the scp baseline: key login as the current
 * user, a temporary config, stopped by `stop()`. Undefined when openssh-server or scp is missing.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";

export interface Sshd {
  readonly port: number;
  /** The client's private key file. */
  readonly key: string;
  stop(): void;
}

export function startSshd(dir: string): Sshd | undefined {
  if (!existsSync("/usr/sbin/sshd") || spawnSync(["sh", "-c", "command -v scp"]).exitCode !== 0) return undefined;
  const ssh = join(dir, "ssh");
  mkdirSync(ssh);
  for (const k of ["hostkey", "clientkey"]) {
    spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(ssh, k)]);
  }
  writeFileSync(join(ssh, "authorized_keys"), readFileSync(join(ssh, "clientkey.pub")));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(ssh, "hostkey")}`,
    `AuthorizedKeysFile ${join(ssh, "authorized_keys")}`,
    `PidFile ${join(ssh, "sshd.pid")}`,
    "UsePAM no",
    "StrictModes no",
    "PasswordAuthentication no",
    "Subsystem sftp internal-sftp",
  ].join("\n");
  writeFileSync(join(ssh, "sshd_config"), `${config}\n`);
  mkdirSync("/run/sshd", { recursive: true });
  if (spawnSync(["/usr/sbin/sshd", "-f", join(ssh, "sshd_config")]).exitCode !== 0) return undefined;
  return {
    port,
    key: join(ssh, "clientkey"),
    stop: () => {
      const pid = Number(readFileSync(join(ssh, "sshd.pid"), "utf8"));
      if (pid > 0) process.kill(pid);
    },
  };
}

/** scp's arguments to copy `file` to `target` through `sshd`. */
export function scpCommand(sshd: Sshd, file: string, target: string): string[] {
  return [
    "scp",
    "-q",
    "-c",
    "aes128-gcm@openssh.com",
    "-i",
    sshd.key,
    "-P",
    String(sshd.port),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    file,
    `root@127.0.0.1:${target}`,
  ];
}
