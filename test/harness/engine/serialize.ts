/**
 * Serialises a dynamic provider object exactly as `pulumi.dynamic.Resource` does
 * (`serializeFunction(() => provider, { allowSecrets: true })`), for direct protocol tests that put
 * the text in the `__provider` input themselves.
 *
 * Must run on tsc-built CommonJS from `dist/`: closures loaded through vite's transform (vitest)
 * cannot be serialised.
 */
import * as pulumi from "@pulumi/pulumi";

/** Serialised provider text (a CommonJS module whose `handler()` returns the provider). */
export interface SerializedProvider {
  /** The module text; goes in the `__provider` input. */
  text: string;
  /** True when the closure captured a secret Output (then the SDK marks `__provider` secret). */
  containsSecrets: boolean;
}

/** Error raised when a provider object cannot be serialised; the message names the provider and why. */
export class ProviderSerializationError extends Error {
  constructor(what: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `dynamic provider ${what} cannot be serialised: ${why}; keep the provider object tiny, capture nothing ` +
        `(no clients, no #private fields, no native ESM imports) and require the provider module inside each method`,
      { cause },
    );
    this.name = "ProviderSerializationError";
  }
}

/**
 * Serialises `provider` as the SDK does for `pulumi.dynamic.Resource`.
 * @param what a name for error messages, e.g. the module path
 * @throws ProviderSerializationError when the closure serialiser refuses the object
 */
export async function serializeProvider(provider: object, what = "provider"): Promise<SerializedProvider> {
  try {
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    return { text: sf.text, containsSecrets: sf.containsSecrets };
  } catch (e) {
    throw new ProviderSerializationError(what, e);
  }
}
