/**
 * What a bk-lite app needs beyond its own services, each edge with upstream's reason and where it says so: one
 * table, from which the catalog adds the services an app needs and the config's validation refuses an app whose
 * needed app is missing (an app brings its own Django models and routes, so it is the operator's to choose).
 */

export interface AppNeed {
    app: string;
    /** Apps it cannot work without: refused when missing. */
    apps?: string[];
    /** Services it cannot work without: run with it. */
    services?: string[];
    /** Why, as upstream's code shows it. */
    why: string;
    /** Where upstream says so (the huangpu fork's server, huangpu-dev). */
    source: string;
}

export const APP_NEEDS: ReadonlyArray<AppNeed> = [
    {
        app: "playground",
        apps: ["mlops"],
        why: "its migration 0003 depends on ('mlops', '0001_initial') and points a foreign key at mlops' anomaly detection serving; without mlops the server's `migrate || true` creates no table at all, and seeding times out",
        source: "server/apps/playground/migrations/0003_alter_playgroundfile_capability.py",
    },
    {
        app: "cmdb",
        services: ["victoria-metrics", "telegraf"],
        why: "CMDB's collection tasks push Telegraf configs to the agents, whose metrics reach VictoriaMetrics through NATS and the central Telegraf; the collection then queries VICTORIAMETRICS_HOST",
        source: "server/apps/cmdb/constants.py (VICTORIAMETRICS_HOST), server/apps/cmdb/collection/base.py, server/apps/cmdb/services/node_configs.py",
    },
];

/** The edges of installed apps whose needed apps are not installed. */
export function missingAppNeeds(installApps: ReadonlyArray<string>): Array<AppNeed & { missing: string[] }> {
    return APP_NEEDS.filter((n) => installApps.includes(n.app))
        .map((n) => ({ ...n, missing: (n.apps ?? []).filter((a) => !installApps.includes(a)) }))
        .filter((n) => n.missing.length > 0);
}

/** The services the installed apps need besides their own. */
export function neededServices(installApps: ReadonlyArray<string>): string[] {
    return APP_NEEDS.filter((n) => installApps.includes(n.app)).flatMap((n) => n.services ?? []);
}
