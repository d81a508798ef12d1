/** The option with which the program's commands reach a stack's containers on this Docker host (`docker exec`). */
export const DOCKER_ACCESS_OPTIONS = {
    "docker-stack": {
        value: "STACK",
        description: (what: string) => `reach ${what} as the containers bklite-STACK-* of this Docker host`,
    },
} as const;
