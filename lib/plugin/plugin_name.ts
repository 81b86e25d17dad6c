/**
 * The rule for plugin names, shared by `definePlugin`, manifests, fixtures and
 * `wiretest new`. Not part of the public API.
 *
 * @module
 */

/** kebab-case: `echo`, `http-probe`, `udp-ping`. */
export const PLUGIN_NAME: RegExp = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
