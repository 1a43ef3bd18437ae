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
);
