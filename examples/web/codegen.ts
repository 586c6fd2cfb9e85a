// Typed documents and Apollo's possibleTypes, generated from the committed schema.
// `npm run codegen` (run by `npm run check` and `npm run build`) writes src/generated/.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/generated/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/generated/": {
      preset: "client",
      // Plain typed documents: this app reads whole results, no fragment masking.
      presetConfig: { fragmentMasking: false },
      config: {
        strictScalars: true,
        scalars: {
          Date: "string",
          DateTime: "string",
          JSON: "unknown",
          JSONObject: "Record<string, unknown>",
        },
        enumsAsTypes: true,
        useTypeImports: true,
        // Apollo Client always adds __typename, and answers null rather than leaving it out.
        nonOptionalTypename: true,
        avoidOptionals: { field: true, inputValue: false },
        skipTypeNameForRoot: true,
      },
    },
    // Which object types each union and interface may be: without it Apollo's cache cannot
    // tell that a NotFoundError is a UserError, and `... on UserError { code message }`
    // inside a payload union silently answers nothing but __typename.
    "src/generated/possible-types.ts": {
      plugins: ["fragment-matcher"],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
  },
};

export default config;
