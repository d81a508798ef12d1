// The CrossGuard pack: `pulumi preview --policy-pack policy` from the project directory. Only this file builds
// the pack (constructing a PolicyPack starts serving it); the policies live in policies.ts, where tests call them.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("bklite", { enforcementLevel: "mandatory", policies });
