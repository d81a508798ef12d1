/** The Docker runtime: the stack's services as containers on one host. */
import { Runtime } from "../runtime";
import { dockerEndpoints, unusedOnDocker } from "./config";

export const dockerRuntime: Runtime = {
    name: "docker",
    checkConfig: () => undefined,
    unusedSettings: unusedOnDocker,
    endpoints: dockerEndpoints,
};
