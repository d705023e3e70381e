// Validates a Teams app manifest with @microsoft/app-manifest, strictly offline.
// Usage: node validate_manifest.mjs <manifest.json>
// Prints {"errors": [...]} and exits 0 when valid, 1 when invalid, 2 when validation could not run.
import { readFile } from "node:fs/promises";
import appManifest from "@microsoft/app-manifest";

const { AppManifestUtils } = appManifest;

// The package falls back to downloading the schema when it has no bundled copy; refuse that,
// so a wrong $schema URL fails loudly instead of silently needing the network.
globalThis.fetch = async (url) => {
  throw new Error(`network access attempted: ${url}`);
};

try {
  const manifest = JSON.parse(await readFile(process.argv[2], "utf8"));
  const errors = await AppManifestUtils.validateAgainstSchema(manifest);
  process.stdout.write(JSON.stringify({ errors }) + "\n");
  process.exitCode = errors.length === 0 ? 0 : 1;
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
