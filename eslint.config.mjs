// Lint rules that hold the house style (see ../shared/STYLE.md): typed promises handled, functions short.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "examples/*/node_modules/**", "**/*.mjs", "**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { project: ["./tsconfig.test.json"], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      // Dynamic providers and the engine stand-in require modules at call time on purpose (closure serialisation).
      "@typescript-eslint/no-require-imports": "off",
      "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Test bodies are tables and scenarios; their length is not logic.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "max-lines-per-function": "off" },
  },
  // A ratchet, not an exemption: functions that were still over 60 lines when the linter arrived
  // (measured after prettier). Each file's cap is its longest function today, so none can grow;
  // split one and lower or delete its line.
  {
    files: ["cli/edit.ts"],
    rules: { "max-lines-per-function": ["error", { max: 76, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["cli/provision.ts"],
    rules: { "max-lines-per-function": ["error", { max: 93, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["cli/rotate.ts"],
    rules: { "max-lines-per-function": ["error", { max: 96, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["cli/scan.ts"],
    rules: { "max-lines-per-function": ["error", { max: 125, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["examples/demo/cli-step.ts"],
    rules: { "max-lines-per-function": ["error", { max: 71, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["examples/demo/flow.ts"],
    rules: { "max-lines-per-function": ["error", { max: 343, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["provider/resources/secret-file-inputs.ts"],
    rules: { "max-lines-per-function": ["error", { max: 103, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["provider/resources/secret-file-move.ts"],
    rules: { "max-lines-per-function": ["error", { max: 64, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["provider/resources/secret-file.ts"],
    rules: { "max-lines-per-function": ["error", { max: 132, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["provider/ssh/connect.ts"],
    rules: { "max-lines-per-function": ["error", { max: 88, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["provider/ssh/pool.ts"],
    rules: { "max-lines-per-function": ["error", { max: 71, skipBlankLines: true, skipComments: true }] },
  },
);
