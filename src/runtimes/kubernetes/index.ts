/** The Kubernetes runtime: the stack's services as workloads in one namespace of a cluster. */
import { Runtime } from "../runtime";
import { checkForCluster, kubernetesEndpoints, unusedOnCluster } from "./config";

export const kubernetesRuntime: Runtime = {
    name: "kubernetes",
    checkConfig: checkForCluster,
    unusedSettings: unusedOnCluster,
    endpoints: kubernetesEndpoints,
};
