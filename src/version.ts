/** The package version, injected at build time by tsup; "0.0.0-dev" when running from source. */
declare const __FAL_MCP_VERSION__: string | undefined;
export const VERSION: string = typeof __FAL_MCP_VERSION__ === "string" ? __FAL_MCP_VERSION__ : "0.0.0-dev";
