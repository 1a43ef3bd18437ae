/**
 * The serialisable provider object every keyfleet resource hands to `pulumi.dynamic.Resource`.
 *
 * Pulumi serialises the provider object (its methods and everything they capture) into the
 * resource's state and runs it in the dynamic-provider server, a separate process in which the
 * serialised text has no file name, so a relative `require` cannot work. Two forms, chosen per
 * process by {@link resourceProvider}:
 * - keyfleet installed as a package that the project resolves (`node_modules/keyfleet`): an object
 *   whose prototype is the provider module itself, which Pulumi's serialiser writes as
 *   `Object.create(require("keyfleet/dist/provider/resources/<name>.js"))`, a few hundred characters;
 * - anything else (a checkout, `$KEYFLEET_ROOT`): {@link lazyProvider}, six methods that capture
 *   nothing but a relative module path string and {@link loadProviderModule}, and load the real
 *   provider module (`dist/provider/resources/<name>`) at call time.
 *
 * The serialised text travels in every Check, Diff and state entry of every resource, so its size is
 * most of a preview's cost per resource (bench/resources-preview.bench.ts).
 */
import { realpathSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The module of every keyfleet resource's type token. Each resource registers as
 * `pulumi-nodejs:dynamic/keyfleet:<Type>` (the SDK's dynamic `Resource` `module` and `type`
 * arguments), so a Recipient and a HostKey of the same name do not collide. Nothing was released
 * under the old shared token `pulumi-nodejs:dynamic:Resource`, so no aliases are needed.
 */
export const RESOURCE_MODULE = "keyfleet";

/** The full type token of a keyfleet resource, e.g. `pulumi-nodejs:dynamic/keyfleet:SecretFile`. */
export function resourceToken(type: string): string {
  return `pulumi-nodejs:dynamic/${RESOURCE_MODULE}:${type}`;
}

/**
 * The SDK view of a provider's outputs: each field of the provider's `…Outputs` interface as a
 * `pulumi.Output`. Resource classes declare their outputs as `Outs<"name">` members, so their types
 * follow the provider interface instead of being copied by hand.
 */
export type OutputsOf<T> = { readonly [K in keyof T]-?: pulumi.Output<T[K]> };

/** The six functions a provider module under `provider/resources/` exports. */
export interface ProviderModule {
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult>;
  diff(id: string, olds: never, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: never): Promise<pulumi.dynamic.CreateResult>;
  read(id: string, props: never): Promise<pulumi.dynamic.ReadResult>;
  update(id: string, olds: never, news: never): Promise<pulumi.dynamic.UpdateResult>;
  delete(id: string, props: never): Promise<void>;
}

/**
 * Loads a compiled provider module by its path relative to the package root (e.g.
 * `dist/provider/resources/recipient`). Search order: the `keyfleet` package in node_modules, else
 * `$KEYFLEET_ROOT/<rel>`, else `<cwd>/<rel>` (README, "How the provider is found"). The module is
 * cached on `globalThis` per process, because a failed package lookup walks the file system.
 *
 * Runs inside the provider server after serialisation: it must reference nothing but globals
 * (`require`, `process`, `globalThis`) and its argument.
 *
 * @throws the `require` error when the module is in none of those places
 */
export function loadProviderModule(rel: string): unknown {
  const cache = globalThis as unknown as Record<string, unknown>;
  const key = "__keyfleet:" + rel;
  const hit = cache[key];
  if (hit) return hit;
  let mod: unknown;
  try {
    mod = require("keyfleet/" + rel);
  } catch (e) {
    if (!String((e as Error).message).includes("keyfleet/" + rel)) throw e;
  }
  mod ??= require(require("path").resolve(process.env["KEYFLEET_ROOT"] ?? ".", rel));
  cache[key] = mod;
  return mod;
}

/**
 * A provider object whose six methods forward to the module at `rel`, loaded on first call by
 * {@link loadProviderModule}. The type parameter is only checked at compile time: pass
 * `typeof import("../provider/resources/<name>")` so the module's signatures are checked against
 * {@link ProviderModule}.
 *
 * @param rel module path relative to the package root, e.g. `"dist/provider/resources/recipient"`
 */
export function lazyProvider<M extends ProviderModule>(rel: string): pulumi.dynamic.ResourceProvider {
  const provider: pulumi.dynamic.ResourceProvider = {
    async check(olds, news) {
      return (loadProviderModule(rel) as M).check(olds, news);
    },
    async diff(id, olds, news) {
      return (loadProviderModule(rel) as M).diff(id, olds as never, news);
    },
    async create(inputs) {
      return (loadProviderModule(rel) as M).create(inputs as never);
    },
    async read(id, props) {
      return (loadProviderModule(rel) as M).read(id, props as never);
    },
    async update(id, olds, news) {
      return (loadProviderModule(rel) as M).update(id, olds as never, news as never);
    },
    async delete(id, props) {
      return (loadProviderModule(rel) as M).delete(id, props as never);
    },
  };
  modulePathOf.set(provider, rel);
  return provider;
}

/** The module path of each {@link lazyProvider} object. */
const modulePathOf = new WeakMap<object, string>();
/** {@link resourceProvider}'s choice per lazy provider, made once per process. */
const chosen = new WeakMap<object, pulumi.dynamic.ResourceProvider>();

/** The directory holding `dist/` (this file is `dist/sdk/dynamic-provider.js`). */
const PACKAGE_ROOT = resolve(__dirname, "..", "..");
/** The package name a project's `require` resolves keyfleet by. */
const PACKAGE_NAME = "keyfleet";

/**
 * The provider module at `rel` (e.g. `dist/provider/resources/recipient`), when keyfleet runs as an
 * installed package: this copy's module lies under a `node_modules` directory, and `keyfleet/<rel>`
 * resolved from `cwd` (the project directory, where the provider server runs too) is that same file.
 * Otherwise undefined: a checkout, a link outside node_modules, another copy first on the project's
 * path, or a package installed under another name.
 *
 * @param cwd where the project's `require` starts; default the working directory
 */
export function packagedProviderModule(rel: string, cwd = process.cwd()): ProviderModule | undefined {
  let here: string;
  let there: string;
  try {
    here = realpathSync(require.resolve(join(PACKAGE_ROOT, rel)));
    there = realpathSync(require.resolve(`${PACKAGE_NAME}/${rel}`, { paths: [cwd] }));
  } catch {
    return undefined;
  }
  if (here !== there || !here.split(sep).includes("node_modules")) return undefined;
  return require(here) as ProviderModule;
}

/**
 * The provider object a resource hands to `pulumi.dynamic.Resource`, for a {@link lazyProvider}
 * object. Installed as a package ({@link packagedProviderModule}): `Object.create(module)`, whose six
 * methods are the module's own exports; Pulumi's serialiser writes it as a `require` of the package
 * path, which the provider server (same working directory) resolves to the same file. Otherwise the
 * lazy object itself. Chosen on first use and kept for the process, so every resource of a type
 * carries the same text.
 */
export function resourceProvider(lazy: pulumi.dynamic.ResourceProvider): pulumi.dynamic.ResourceProvider {
  let p = chosen.get(lazy);
  if (p === undefined) {
    const rel = modulePathOf.get(lazy);
    const mod = rel === undefined ? undefined : packagedProviderModule(rel);
    p = mod === undefined ? lazy : (Object.create(mod) as pulumi.dynamic.ResourceProvider);
    chosen.set(lazy, p);
  }
  return p;
}
