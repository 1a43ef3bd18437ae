// Entry point of this Pulumi project (see Pulumi.yaml): the CLI requires `main` inside the project
// and runs the program in main's directory, so this file stays here and loads the program compiled
// by `npm run build` at the repository root. Paths (secrets/) resolve from this folder.
module.exports = require("../../dist/examples/raw-resources/index.js");
