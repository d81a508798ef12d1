// ESLint for the TypeScript sources (`npm run lint`, part of `npm test`): the recommended rules of ESLint and
// typescript-eslint, Pulumi's rules for Outputs (which need the types), and the project's own limits. Formatting is
// Prettier's (`npm run format`).
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "node_modules/",
            "dist/",
            "dist.*/",
            ".pulumi/",
            "tests/fixtures/",
            // Plain JavaScript run by Node as it is (build script, bench worker, stand-in programs in test images).
            "**/*.js",
            "**/*.mjs",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        // Functions a reader can hold: the program and the CLI (tests may list their cases at length).
        files: ["index.ts", "src/**/*.ts", "cli/**/*.ts"],
        rules: { "max-lines-per-function": ["error", { max: 80 }] },
    },
    {
        files: ["tests/**/*.ts"],
        rules: {
            // Tests load the program's modules after Pulumi's mocks are set, and again after forgetting them: that
            // takes require at the point of use.
            "@typescript-eslint/no-require-imports": "off",
            // Recorded resources, mock inputs and parsed JSON are walked by path without a type for each shape.
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
);
