/** `bklite:backup`: the backup `pulumi up` takes before an upgrade changes an image. */
import { isRecord } from "../../util/json";
import { DEFAULT_BACKUP, backupKeepProblem } from "../keys";
import { AddProblem } from "../problems";
import { BackupConfig } from "../types";

export function parseBackup(value: unknown, add: AddProblem): BackupConfig {
    const backup: BackupConfig = { ...DEFAULT_BACKUP };
    if (value === undefined) {
        return backup;
    }
    if (!isRecord(value)) {
        add("backup", "must be an object {dir, keep, beforeUpgrade}", JSON.stringify(value));
        return backup;
    }
    const known = Object.keys(DEFAULT_BACKUP);
    for (const key of Object.keys(value).filter((k) => !known.includes(k))) {
        add(`backup.${key}`, `is not a backup setting (${known.join(", ")})`);
    }
    const { dir, keep, beforeUpgrade } = value;
    if (dir !== undefined) {
        if (typeof dir !== "string" || dir.trim() === "" || dir.includes("\0")) {
            add(
                "backup.dir",
                "must be a directory path, e.g. /srv/bklite-backups (relative paths are from the project directory)",
                JSON.stringify(dir),
            );
        } else {
            backup.dir = dir;
        }
    }
    if (keep !== undefined) {
        const problem = backupKeepProblem(keep);
        if (problem) {
            add("backup.keep", problem, JSON.stringify(keep));
        } else {
            backup.keep = keep as number;
        }
    }
    if (beforeUpgrade !== undefined) {
        if (typeof beforeUpgrade !== "boolean") {
            add("backup.beforeUpgrade", "must be true or false", JSON.stringify(beforeUpgrade));
        } else {
            backup.beforeUpgrade = beforeUpgrade;
        }
    }
    return backup;
}
