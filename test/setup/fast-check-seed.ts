/**
 * Property tests are deterministic: every fast-check run in the suite starts from one seed, so
 * CI gives the same verdict on the same commit. Explore other inputs with PVKIT_FC_SEED=<n>
 * (a failure prints the seed and path to replay it).
 */
import fc from "fast-check";

const seed = process.env.PVKIT_FC_SEED === undefined ? 0x70766b74 : Number(process.env.PVKIT_FC_SEED);
if (!Number.isSafeInteger(seed))
  throw new Error(`PVKIT_FC_SEED must be an integer, got "${process.env.PVKIT_FC_SEED}"`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
