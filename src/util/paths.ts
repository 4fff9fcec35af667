import path from "node:path";

/**
 * `target` relative to `folder` when it is the folder itself ("") or inside it; undefined when it
 * is outside. Both are resolved first, so `..` parts cannot climb out.
 */
export function relativeInside(folder: string, target: string): string | undefined {
  const relative = path.relative(path.resolve(folder), path.resolve(target));
  if (relative === "") return "";
  if (relative === ".." || relative.startsWith(".." + path.sep) || path.isAbsolute(relative))
    return undefined;
  return relative;
}

/** True when `target` is strictly inside `folder` (not the folder itself). */
export function isInside(folder: string, target: string): boolean {
  return Boolean(relativeInside(folder, target));
}
