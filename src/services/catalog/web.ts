/** The web console (Next.js on 3000): everything but /api/v1, which goes to the server. */
import { VALUE_REFS, publicUrl } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { ref, tpl } from "../template";
import { SERVER_PORT } from "./server";

const WEB_PORT = 3000;

export const web: ServiceDefinition = {
    name: "web",
    defaultImage: "bklite/web:huangpu-v1.0",
    build: { context: "web", dockerfile: "web/Dockerfile" },
    workload: ({ config, image, endpoints }) => ({
        name: "web",
        image,
        env: {
            NEXTAUTH_URL: publicUrl(config, endpoints),
            NEXTAUTH_SECRET: tpl`${ref(VALUE_REFS.nextauthSecret)}`,
            NEXTAPI_URL: `http://server:${SERVER_PORT}`,
        },
        ports: [{ name: "http", containerPort: WEB_PORT }],
        files: [],
        health: healthCheck(["CMD", "wget", "--no-verbose", "--tries=1", "--spider", `http://127.0.0.1:${WEB_PORT}/`], {
            timeoutSeconds: 10,
            startPeriodSeconds: 30,
        }),
        dependsOn: ["server"],
        routes: [{ pathPrefix: "/", port: WEB_PORT, priority: 10 }],
    }),
};
