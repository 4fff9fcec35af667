/**
 * Settings that arrive as unfilled templates. Claude Desktop bundles, plugin marketplaces and some
 * clients write `${user_config.output_dir}`, `${HOME}` or `${FAL_KEY}` into a server's environment
 * and substitute them at launch; an optional field the user left empty is passed through literally
 * (elevenlabs/elevenlabs-mcp 7b42b4a, claude-code#55381). Such a value is never a real setting: a
 * key, a folder or a cost cap taken from it would be wrong in a way the user cannot see, so it is
 * dropped (the default applies) and reported by name.
 */

/** `${name}` with a name as the template syntaxes write it: `user_config.x`, `HOME`, `__dirname`, `/`. */
const PLACEHOLDER = /\$\{(?:[A-Za-z_][\w.-]*|\/)\}/g;

/** The placeholders left in `value`, e.g. `["${user_config.output_dir}"]`; empty when there is none. */
export function unsubstitutedPlaceholders(value: string): string[] {
  return value.match(PLACEHOLDER) ?? [];
}

export function isUnsubstituted(value: string): boolean {
  return unsubstitutedPlaceholders(value).length > 0;
}

export interface IgnoredSetting {
  /** The environment variable's name. */
  name: string;
  /** The placeholders found in its value (never the rest of the value, which might be a key). */
  placeholders: string[];
}

export interface PlaceholderFilterResult<Env> {
  /** A copy of the environment without the unsubstituted values. */
  env: Env;
  /** What was dropped, in the environment's order; empty when nothing was. */
  ignored: IgnoredSetting[];
}

/** Drops every variable whose value still holds a `${…}` template. Pure: `env` is not changed. */
export function dropUnsubstitutedPlaceholders<Env extends Record<string, string | undefined>>(
  env: Env,
): PlaceholderFilterResult<Env> {
  const kept: Record<string, string | undefined> = {};
  const ignored: IgnoredSetting[] = [];
  for (const [name, value] of Object.entries(env)) {
    const placeholders = value === undefined ? [] : unsubstitutedPlaceholders(value);
    if (placeholders.length > 0) ignored.push({ name, placeholders });
    else kept[name] = value;
  }
  return { env: kept as Env, ignored };
}

/** The warning to log for one dropped setting. */
export function ignoredSettingWarning(setting: IgnoredSetting): string {
  return (
    `Ignoring ${setting.name}: its value is the unfilled template ${setting.placeholders.join(", ")} ` +
    "(an optional field left empty in the client's install form, or a variable the client did not expand). " +
    `The default applies; set ${setting.name} to a real value to change it.`
  );
}
