/** Reads a captured fixture under tests/fixtures/collector/. */
export function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(`../fixtures/collector/${name}`, import.meta.url));
}
