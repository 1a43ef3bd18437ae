// Entry point of the repository-root Pulumi project (see Pulumi.yaml). The Pulumi CLI runs a
// program in the directory of its `main`, so this file sits at the root: relative paths in the
// program (secrets/, the inventory) and the providers' lookup of dist/ then resolve from here.
// The program itself is the compiled fleet example: run `npm run build` first.
module.exports = require("./dist/examples/fleet/index.js");
