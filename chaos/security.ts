import type { ChaosStack } from './stack';
export async function runSecurity(_stack: ChaosStack, _o: { timingSamples: number }, _log: (l: string) => void): Promise<{ problems: string[] }> { return { problems: [] }; }
